// Chooses simd.hpp's table once, from the CPU (and XGRAD_CPU_CAPABILITY).
#include "simd.hpp"

#include <atomic>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

#include "check.hpp"
#include "threads.hpp"

namespace xg::detail::simd {

#if !defined(XGRAD_SIMD_X86)
const Kernels* avx2_kernels() { return nullptr; }
const Kernels* avx512_kernels() { return nullptr; }
#endif

namespace {

// What the CPU (and its operating system, which must save the wider registers) can run.
bool cpu_runs(Isa isa) {
#if defined(XGRAD_SIMD_X86)
  __builtin_cpu_init();  // in case this runs before libgcc's own initializer (a static's)
#endif
  switch (isa) {
    case Isa::Default:
      return true;
#if defined(XGRAD_SIMD_X86)
    case Isa::Avx2:
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case Isa::Avx512:
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") &&
             __builtin_cpu_supports("fma");
#endif
    default:
      return false;
  }
}

const Kernels* compiled(Isa isa) {
  switch (isa) {
    case Isa::Default:
      return default_kernels();
    case Isa::Avx2:
      return avx2_kernels();
    case Isa::Avx512:
      return avx512_kernels();
  }
  return nullptr;
}

// The best table at or below XGRAD_CPU_CAPABILITY's set (another value is ignored, as PyTorch
// ignores one it does not know).
const Kernels* choose() {
  int cap = kIsaCount - 1;
  if (const char* env = std::getenv("XGRAD_CPU_CAPABILITY")) {
    const std::string_view v(env);
    if (v == "default") cap = static_cast<int>(Isa::Default);
    if (v == "avx2") cap = static_cast<int>(Isa::Avx2);
    if (v == "avx512") cap = static_cast<int>(Isa::Avx512);
  }
  for (int i = cap; i > 0; --i) {
    if (const Kernels* k = kernels_for(static_cast<Isa>(i))) return k;
  }
  return default_kernels();
}

// Chosen at first use; two threads choosing at once choose the same.
std::atomic<const Kernels*> g_active{nullptr};

}  // namespace

const Kernels* kernels_for(Isa isa) { return cpu_runs(isa) ? compiled(isa) : nullptr; }

const Kernels& active() {
  const Kernels* k = g_active.load(std::memory_order_acquire);
  if (k == nullptr) {
    k = choose();
    g_active.store(k, std::memory_order_release);
  }
  return *k;
}

void set_active(Isa isa) {
  const Kernels* k = kernels_for(isa);
  XG_CHECK_ARG(k != nullptr, "set_active: this CPU or build has no kernels for that set");
  g_active.store(k, std::memory_order_release);
}

}  // namespace xg::detail::simd

namespace xg {
std::string get_cpu_capability() { return detail::simd::active().name; }
}  // namespace xg
