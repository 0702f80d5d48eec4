// The caching allocator behind tensor data: freed buffers are reused instead of returned to the
// system, memory_stats() counts what is in use, cached and the peak, and empty_cache() gives the
// cache back. A training loop's memory stays flat. (Sanitizer builds allocate every buffer from
// the system, so there nothing is cached: those checks are skipped.)
#include <gtest/gtest.h>

#include <cstdint>
#include <xgrad/xgrad.hpp>

namespace {

using xg::Tensor;

#ifdef XGRAD_TEST_NO_CACHING
constexpr bool kCaching = false;
#else
constexpr bool kCaching = true;
#endif

TEST(Memory, StatsCountTensorsInUseInSizeClasses) {
  xg::empty_cache();
  const auto before = xg::memory_stats();
  {
    const Tensor t = xg::zeros({1000});  // 4,000 bytes: the 4,032-byte class (63 * 64)
    EXPECT_EQ(xg::memory_stats().allocated_bytes - before.allocated_bytes, 4032);
    EXPECT_GE(xg::memory_stats().peak_allocated_bytes, before.allocated_bytes + 4032);
    EXPECT_EQ(reinterpret_cast<std::uintptr_t>(t.data_ptr<float>()) % 64, 0u);  // 64-byte aligned
  }
  EXPECT_EQ(xg::memory_stats().allocated_bytes, before.allocated_bytes);
  if (kCaching) {
    EXPECT_EQ(xg::memory_stats().cached_bytes - before.cached_bytes, 4032);
  }
  xg::empty_cache();
  EXPECT_EQ(xg::memory_stats().cached_bytes, 0);
}

TEST(Memory, AFreedBufferIsReusedForTheSameSize) {
  if (!kCaching) GTEST_SKIP() << "sanitizer build: no cache";
  const float* first = nullptr;
  {
    const Tensor t = xg::ones({257, 3});
    first = t.data_ptr<float>();
  }
  const Tensor again = xg::zeros({257, 3});  // same class: the same block comes back
  EXPECT_EQ(again.data_ptr<float>(), first);
  EXPECT_EQ(again.sum().item(), 0.0);  // and it was filled anew
}

TEST(Memory, LargeBuffersAreReusedToo) {
  if (!kCaching) GTEST_SKIP() << "sanitizer build: no cache";
  const double* first = nullptr;
  {
    const Tensor t = xg::ones({1 << 20}, xg::kFloat64);  // 8 MiB: glibc would unmap it on free
    first = t.data_ptr<double>();
  }
  const Tensor again = xg::full({1 << 20}, 2.0, xg::kFloat64);
  EXPECT_EQ(again.data_ptr<double>(), first);
  EXPECT_EQ(again.sum().item(), 2.0 * (1 << 20));
}

TEST(Memory, ATrainingLoopsMemoryStaysFlat) {
  xg::manual_seed(0);
  xg::nn::Linear model(64, 64);
  xg::optim::AdamW opt(model.parameters(), xg::optim::AdamWOptions(1e-3));
  const Tensor x = xg::randn({32, 64});
  auto step = [&] {
    opt.zero_grad();
    xg::mean(xg::square(model(x) - x)).backward();
    opt.step();
  };
  for (int i = 0; i < 20; ++i) step();  // warm up: optimizer state, cached blocks
  const auto warm = xg::memory_stats();
  xg::reset_peak_memory_stats();
  for (int i = 0; i < 2000; ++i) step();
  const auto after = xg::memory_stats();
  EXPECT_EQ(after.allocated_bytes, warm.allocated_bytes);
  if (kCaching) {
    // Every step's buffers come from the cache: it neither grows nor shrinks.
    EXPECT_EQ(after.cached_bytes + after.allocated_bytes, warm.cached_bytes + warm.allocated_bytes);
  }
}

}  // namespace
