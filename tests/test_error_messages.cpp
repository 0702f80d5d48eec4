// Every message in docs/errors.md, word for word: each case triggers one entry of the catalog
// through the public API and checks the exception's exact type and its whole message; a second
// test reads docs/errors.md and checks that its entries and these cases are the same set, with the
// same types and the same example messages, so the document and the code cannot drift apart.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <unistd.h>

#include <csignal>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <limits>
#include <map>
#include <memory>
#include <regex>
#include <set>
#include <string>
#include <typeinfo>
#include <vector>
#include <xgrad/xgrad.hpp>

namespace {

namespace fs = std::filesystem;
using xg::Shape;
using xg::Tensor;
using xg::autograd::AutogradContext;

enum class Type { InvalidArgument, OutOfRange, RuntimeError, LogicError, OutOfMemory };

// The spelling docs/errors.md uses.
std::string type_name(Type type) {
  switch (type) {
    case Type::InvalidArgument:
      return "std::invalid_argument";
    case Type::OutOfRange:
      return "std::out_of_range";
    case Type::RuntimeError:
      return "std::runtime_error";
    case Type::OutOfMemory:
      return "xg::OutOfMemoryError";
    default:
      return "std::logic_error";
  }
}

// The exact type, not a base: std::out_of_range is a std::logic_error too.
bool has_type(const std::exception& e, Type type) {
  switch (type) {
    case Type::InvalidArgument:
      return typeid(e) == typeid(std::invalid_argument);
    case Type::OutOfRange:
      return typeid(e) == typeid(std::out_of_range);
    case Type::RuntimeError:
      return typeid(e) == typeid(std::runtime_error);
    case Type::OutOfMemory:
      return typeid(e) == typeid(xg::OutOfMemoryError);
    default:
      return typeid(e) == typeid(std::logic_error);
  }
}

// One entry of docs/errors.md: its heading, and a call that throws its example message.
struct Case {
  std::string id;
  Type type;
  std::string message;
  std::function<void()> trigger;
};

// The cases run inside a fresh temporary directory, so that file names in messages are short
// and the same on every machine.
class ScratchDir {
 public:
  ScratchDir() : previous_(fs::current_path()) {
    path_ = fs::temp_directory_path() / ("xgrad-error-messages-" + std::to_string(::getpid()));
    fs::create_directories(path_);
    fs::current_path(path_);
  }
  ~ScratchDir() {
    fs::current_path(previous_);
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

 private:
  fs::path previous_;
  fs::path path_;
};

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A safetensors file: the 8-byte little-endian header length, the header, the data.
void write_safetensors(const std::string& path, const std::string& header,
                       const std::string& data = "", std::uint64_t claimed_length = 0) {
  const std::uint64_t length = claimed_length ? claimed_length : header.size();
  std::string bytes(reinterpret_cast<const char*>(&length), sizeof length);
  write_bytes(path, bytes + header + data);
}

// A malformed file named bad.safetensors, loaded.
void load_bad(const std::string& header, const std::string& data = "") {
  write_safetensors("bad.safetensors", header, data);
  xg::load("bad.safetensors");
}

// Runs fn with writes limited to `bytes` per file: a longer write fails with EFBIG ("File too
// large"), as on a full disk, instead of raising SIGXFSZ.
void with_file_size_limit(rlim_t bytes, const std::function<void()>& fn) {
  rlimit old{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &old), 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  struct Restore {
    rlimit limit;
    decltype(old_handler) handler;
    ~Restore() {
      setrlimit(RLIMIT_FSIZE, &limit);
      std::signal(SIGXFSZ, handler);
    }
  } restore{old, old_handler};
  rlimit lowered = old;
  lowered.rlim_cur = bytes;
  ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &lowered), 0);
  fn();
}

Tensor leaf(const Shape& shape) { return xg::ones(shape, xg::requires_grad()); }

// Custom functions whose backward breaks the rules.
struct TooManyGrads : xg::autograd::Function<TooManyGrads> {
  static Tensor forward(AutogradContext*, const Tensor& x, double k) { return x * k; }
  static std::vector<Tensor> backward(AutogradContext*, std::vector<Tensor> g) {
    return {g[0], g[0], g[0]};
  }
};

struct WrongShapeGrad : xg::autograd::Function<WrongShapeGrad> {
  static Tensor forward(AutogradContext*, const Tensor& x) { return x * 2; }
  static std::vector<Tensor> backward(AutogradContext*, std::vector<Tensor>) {
    return {xg::ones({3})};
  }
};

struct Double : xg::autograd::Function<Double> {
  static Tensor forward(AutogradContext*, const Tensor& x) { return x * 2; }
  static std::vector<Tensor> backward(AutogradContext*, std::vector<Tensor> g) {
    return {g[0] * 2};
  }
};

// An SGD over one [2] parameter, its state, and load_state_dict of the state after `edit`.
void load_edited_sgd_state(const std::function<void(xg::optim::OptimizerStateDict&)>& edit) {
  xg::optim::SGD opt({leaf({2})}, xg::optim::SGDOptions(0.1).momentum(0.9));
  auto state = opt.state_dict();
  edit(state);
  opt.load_state_dict(state);
}

// The same for Adam, whose state starts with the given per-parameter entries.
void load_adam_state(const std::map<std::string, Tensor>& param_state) {
  xg::optim::Adam opt({leaf({2})}, xg::optim::AdamOptions(0.1));
  auto state = opt.state_dict();
  for (const auto& [key, t] : param_state) state.tensors["state.0." + key] = t;
  opt.load_state_dict(state);
}

// A Linear(2, 3) (weight [3, 2], bias [3]) loading the given state.
void load_linear_state(const xg::TensorMap& state) {
  xg::nn::Linear linear(2, 3);
  xg::load_state_dict(linear, state);
}

std::vector<Case> all_cases() {
  using T = Type;
  const std::string bad = "load: bad.safetensors is not a valid safetensors file: ";
  const std::string w_f32 = R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})";
  return {
      // ---- tensors: creating, reading, autograd state ----
      {"undefined-tensor", T::InvalidArgument,
       "exp: got an undefined tensor (default-constructed xg::Tensor)", [] { xg::exp(Tensor()); }},
      {"generator-state-type", T::InvalidArgument,
       "Generator::set_state: expected a 1-D Int64 state tensor from get_state, got [3] Float32",
       [] { xg::Generator().set_state(xg::ones({3})); }},
      {"generator-state-values", T::InvalidArgument,
       "set_rng_state: the tensor is not a generator state (3 values)",
       [] { xg::set_rng_state(xg::arange(3)); }},
      {"multinomial-dims", T::InvalidArgument,
       "multinomial: prob_dist must be 1 or 2 dim, got [1, 1, 1]",
       [] {
         xg::multinomial(xg::ones({1, 1, 1}), 1);
       }},
      {"multinomial-count", T::InvalidArgument,
       "multinomial: cannot sample n_sample <= 0 samples, got 0",
       [] { xg::multinomial(xg::ones({2}), 0); }},
      {"multinomial-too-many", T::InvalidArgument,
       "multinomial: cannot sample n_sample (3) > prob_dist.size(-1) (2) samples without "
       "replacement",
       [] { xg::multinomial(xg::ones({2}), 3); }},
      {"multinomial-empty", T::InvalidArgument,
       "multinomial: expected a non-empty prob_dist, got [0]",
       [] { xg::multinomial(xg::ones({0}), 1, true); }},
      {"multinomial-weights", T::InvalidArgument,
       "multinomial: probability tensor contains either inf, nan or element < 0",
       [] {
         xg::multinomial(xg::tensor({1.0, -2.0}), 1);
       }},
      {"multinomial-zero-sum", T::InvalidArgument,
       "multinomial: invalid multinomial distribution (sum of probabilities <= 0)",
       [] { xg::multinomial(xg::zeros({2}), 1); }},
      {"multinomial-not-enough", T::InvalidArgument,
       "multinomial: invalid multinomial distribution (with replacement=False, not enough "
       "non-negative category to sample)",
       [] {
         xg::multinomial(xg::tensor({1.0, 0.0, 0.0}), 2);
       }},
      {"not-floating", T::InvalidArgument,
       "mean: expected a Float32 or Float64 tensor, got [3] Int64", [] { xg::arange(3).mean(); }},
      {"negative-size", T::InvalidArgument, "zeros: negative size in shape [2, -1]",
       [] {
         xg::zeros({2, -1});
       }},
      {"storage-overflow", T::InvalidArgument,
       "zeros: storage size calculation overflowed with sizes=[4611686018427387905, 4]",
       [] {
         xg::zeros({(std::int64_t{1} << 62) + 1, 4});
       }},
      {"result-storage-overflow", T::InvalidArgument,
       "storage size calculation overflowed with sizes=[1099511627776, 16777216]",
       [] {
         xg::mm(xg::zeros({std::int64_t{1} << 40, 0}), xg::zeros({0, std::int64_t{1} << 24}));
       }},
      {"out-of-memory", T::OutOfMemory,
       "out of memory: cannot allocate 4503599627370496 bytes for a [1099511627776, 1024] Float32 "
       "tensor",
       [] {
         xg::zeros({std::int64_t{1} << 40, std::int64_t{1} << 10});
       }},
      {"arange-overflow", T::InvalidArgument,
       "arange: invalid size, possible overflow? (start 0.000000, end "
       "1000000000000000019884624838656.000000, step 1.000000 give "
       "1000000000000000019884624838656.000000 elements)",
       [] { xg::arange(0.0, 1e30, 1.0); }},
      {"int64-overflow", T::InvalidArgument,
       "item: value nan cannot be converted to Int64 without overflow",
       [] { xg::tensor({std::nan("")}).item<std::int64_t>(); }},
      {"set-data-saved", T::RuntimeError,
       "backward: a tensor needed for gradient computation by MulBackward (mul on [2] Float32, [2] "
       "Float32) had its data replaced by set_data after the forward, now [3] Float32; call "
       "set_data after backward, or run the forward again",
       [] {
         Tensor x = xg::ones({2}, xg::TensorOptions().requires_grad(true));
         Tensor loss = xg::sum(x * x);
         x.set_data(xg::ones({3}));
         loss.backward();
       }},
      {"cat-size-overflow", T::InvalidArgument,
       "cat: the sizes along dim 1 add up to more than int64 can hold",
       [] {
         xg::cat(std::vector<Tensor>(8, xg::zeros({0, std::int64_t{1} << 60})), 1);
       }},
      {"hook-changed-gradient", T::RuntimeError,
       "backward: hook has changed the size or dtype of value: the gradient is [2] Float32, the "
       "hook returned [3] Float32",
       [] {
         Tensor x = xg::ones({2}, xg::TensorOptions().requires_grad(true));
         x.register_hook([](const Tensor&) { return xg::ones({3}); });
         xg::sum(x * 2).backward();
       }},
      {"grad-assigned-mismatch", T::RuntimeError,
       "backward: .grad holds a [3] Float32 tensor but the gradient is [2] Float32 (assigned grad "
       "has data of a different size or dtype); reset it with mutable_grad() = {}",
       [] {
         Tensor x = xg::ones({2}, xg::TensorOptions().requires_grad(true));
         x.mutable_grad() = xg::zeros({3});
         xg::sum(x * 2).backward();
       }},
      {"optimizer-empty", T::InvalidArgument, "SGD: optimizer got an empty parameter list",
       [] { xg::optim::SGD(std::vector<Tensor>{}, xg::optim::SGDOptions(0.1)); }},
      {"optimizer-options-kind", T::InvalidArgument,
       "SGD: parameter group 0 has another optimizer's options; SGD takes SGDOptions",
       [] {
         std::vector<xg::optim::OptimizerParamGroup> groups;
         groups.emplace_back(std::vector<Tensor>{xg::ones({1}).requires_grad_()},
                             std::make_unique<xg::optim::AdamOptions>(0.1));
         xg::optim::SGD(groups, xg::optim::SGDOptions(0.1));
       }},
      {"module-cycle", T::InvalidArgument,
       "A: registering submodule 'self' would make a cycle: this module would be its own "
       "descendant at 'self'",
       [] {
         auto a = std::make_shared<xg::nn::Module>("A");
         a->register_module("self", a);
       }},
      {"random-windows-tokens", T::InvalidArgument,
       "random_windows: expected a 1-D Int64 token tensor, got [10] Float32",
       [] { xg::nn::random_windows(xg::ones({10}), 2, 4); }},
      {"random-windows-sizes", T::InvalidArgument,
       "random_windows: batch_size and block_size must be positive, got 0 and 4",
       [] { xg::nn::random_windows(xg::arange(10), 0, 4); }},
      {"random-windows-too-short", T::InvalidArgument,
       "random_windows: 8 tokens hold no window of block_size 8 with its next-token targets "
       "(need more than 8)",
       [] { xg::nn::random_windows(xg::arange(8), 2, 8); }},
      {"window-mixture-weights", T::InvalidArgument,
       "WindowMixture: expected one weight per source, got 2 weights for 1 sources",
       [] {
         xg::nn::WindowMixture({xg::arange(50)}, {1.0, 2.0}, 4, xg::Generator(1));
       }},
      {"window-mixture-block-size", T::InvalidArgument,
       "WindowMixture: block_size must be positive, got 0",
       [] { xg::nn::WindowMixture({xg::arange(50)}, {1.0}, 0, xg::Generator(1)); }},
      {"window-mixture-source", T::InvalidArgument,
       "WindowMixture: source 0 must be a 1-D Int64 token tensor, got [50] Float32",
       [] { xg::nn::WindowMixture({xg::ones({50})}, {1.0}, 4, xg::Generator(1)); }},
      {"window-mixture-weight", T::InvalidArgument,
       "WindowMixture: source 0's weight must be finite and >= 0, got -1.000000",
       [] { xg::nn::WindowMixture({xg::arange(50)}, {-1.0}, 4, xg::Generator(1)); }},
      {"window-mixture-too-short", T::InvalidArgument,
       "WindowMixture: source 1 has 4 tokens, no window of block_size 4 with its next-token "
       "targets (need more than 4)",
       [] {
         xg::nn::WindowMixture({xg::arange(50), xg::arange(4)}, {1.0, 1.0}, 4, xg::Generator(1));
       }},
      {"window-mixture-all-zero", T::InvalidArgument, "WindowMixture: every weight is 0",
       [] {
         xg::nn::WindowMixture({xg::arange(50), xg::arange(50)}, {0.0, 0.0}, 4, xg::Generator(1));
       }},
      {"window-mixture-batch-size", T::InvalidArgument,
       "WindowMixture::next: batch_size must be positive, got 0",
       [] { xg::nn::WindowMixture({xg::arange(50)}, {1.0}, 4, xg::Generator(1)).next(0); }},
      {"window-mixture-budgets", T::InvalidArgument,
       "WindowMixture::weights_for_epochs: expected one epoch budget per source, got 1 for 2 "
       "sources",
       [] {
         xg::nn::WindowMixture::weights_for_epochs({1000, 10}, {1.0});
       }},
      {"window-mixture-budget", T::InvalidArgument,
       "WindowMixture::weights_for_epochs: source 0 needs a token count >= 0 and an epoch budget "
       "finite and >= 0, got 1000 and -1.000000",
       [] { xg::nn::WindowMixture::weights_for_epochs({1000}, {-1.0}); }},
      {"window-mixture-budgets-zero", T::InvalidArgument,
       "WindowMixture::weights_for_epochs: every budget is 0 epochs (or every source is empty)",
       [] {
         xg::nn::WindowMixture::weights_for_epochs({1000, 10}, {0.0, 0.0});
       }},
      {"window-mixture-state", T::InvalidArgument,
       "WindowMixture::set_state: expected a 1-D Int64 tensor from get_state, got [3] Float32",
       [] {
         xg::nn::WindowMixture({xg::arange(50)}, {1.0}, 4, xg::Generator(1))
             .set_state(xg::ones({3}));
       }},
      {"window-mixture-state-sources", T::InvalidArgument,
       "WindowMixture::set_state: the state (3 values) is of a mixture of 2 sources, this one has "
       "1",
       [] {
         xg::nn::WindowMixture({xg::arange(50)}, {1.0}, 4, xg::Generator(1))
             .set_state(xg::tensor({2, 0, 0}, xg::kInt64));
       }},
      {"window-mixture-state-count", T::InvalidArgument,
       "WindowMixture::set_state: source 0's count -1 is negative",
       [] {
         xg::nn::WindowMixture({xg::arange(50)}, {1.0}, 4, xg::Generator(1))
             .set_state(xg::tensor({1, -1, 0, 0}, xg::kInt64));
       }},
      {"batch-sampler-take-too-many", T::InvalidArgument,
       "BatchSampler::take: 1000000000000000000.000000 epochs are 5000000000000000000.000000 "
       "batches, more than one vector can hold; take fewer at a time",
       [] { xg::nn::BatchSampler(10, 2).take(1e18); }},
      {"set-num-threads", T::InvalidArgument,
       "set_num_threads: expected a positive number of threads, got 0",
       [] { xg::set_num_threads(0); }},
      {"tensor-values", T::InvalidArgument,
       "tensor: 3 values do not fill the shape [2, 2] (4 elements)",
       [] {
         xg::tensor({1, 2, 3}, Shape{2, 2});
       }},
      {"arange-step-zero", T::InvalidArgument, "arange: step must be nonzero",
       [] { xg::arange(0, 5, 0); }},
      {"arange-not-finite", T::InvalidArgument, "arange: start, end and step must be finite",
       [] { xg::arange(0.0, std::numeric_limits<double>::infinity(), 1); }},
      {"arange-sign", T::InvalidArgument,
       "arange: upper bound and larger bound inconsistent with step sign (start 0.000000, end "
       "-3.000000, step 1.000000)",
       [] { xg::arange(0, -3, 1); }},
      {"linspace-steps", T::InvalidArgument, "linspace: number of steps must be non-negative",
       [] { xg::linspace(0, 1, -1); }},
      {"random-dtype", T::InvalidArgument, "randn: expected a floating dtype, got Int64",
       [] { xg::randn({2}, xg::kInt64); }},
      {"randint-range", T::InvalidArgument, "randint: expected low < high, got low 5 and high 5",
       [] { xg::randint(5, 5, {2}); }},
      {"range-bool", T::InvalidArgument,
       "arange: expected a Float32, Float64 or Int64 dtype, got Bool",
       [] { xg::arange(3, xg::kBool); }},
      {"item-not-one", T::InvalidArgument,
       "item: a tensor with 6 elements cannot be converted to a number (shape [2, 3]); item() "
       "needs exactly one",
       [] {
         xg::ones({2, 3}).item();
       }},
      {"size-0d", T::OutOfRange, "size: a 0-d tensor has no dims (asked for dim 0)",
       [] { xg::scalar_tensor(1.0).size(0); }},
      {"stride-0d", T::OutOfRange, "stride: a 0-d tensor has no dims (asked for dim 0)",
       [] { xg::scalar_tensor(1.0).stride(0); }},
      {"data-ptr-dtype", T::InvalidArgument,
       "data_ptr: asked for Float64 elements of a [2] Float32 tensor",
       [] { xg::ones({2}).data_ptr<double>(); }},
      {"requires-grad-non-leaf", T::RuntimeError,
       "requires_grad_: [2] Float32 was computed by an op; only a leaf can stop requiring grad "
       "(use detach() to get a tensor without a graph)",
       [] { (leaf({2}) * 2).requires_grad_(false); }},
      {"requires-grad-int", T::InvalidArgument,
       "requires_grad_: only Float32 and Float64 tensors can require grad, got [3] Int64",
       [] { xg::arange(3).requires_grad_(); }},
      {"retain-grad-no-grad", T::RuntimeError,
       "retain_grad: [2] Float32 does not require grad, so it will never have a gradient",
       [] { xg::ones({2}).retain_grad(); }},
      {"register-hook-no-grad", T::RuntimeError,
       "register_hook: cannot register a hook on [2] Float32, which does not require grad",
       [] { xg::ones({2}).register_hook([](const Tensor& g) { return g; }); }},
      {"set-data-non-leaf", T::RuntimeError,
       "set_data: [2] Float32 was computed by an op; only a leaf's data can be replaced",
       [] { (leaf({2}) * 2).set_data(xg::zeros({2})); }},
      {"set-data-int", T::InvalidArgument,
       "set_data: a tensor that requires grad cannot hold [3] Int64 data",
       [] { leaf({2}).set_data(xg::arange(3)); }},

      // ---- in-place ops ----
      {"inplace-leaf", T::RuntimeError,
       "add_: a leaf tensor that requires grad ([2] Float32) cannot be changed in place while "
       "grad mode is on; wrap the update in xg::NoGradGuard, change a detach()ed copy, or use "
       "the out-of-place op",
       [] { leaf({2}).add_(1); }},
      {"inplace-view-of-leaf", T::RuntimeError,
       "mul_: a view of a leaf tensor that requires grad ([3] Float32 of [2, 3] Float32) cannot "
       "be changed in place while grad mode is on; wrap the update in xg::NoGradGuard, or "
       "change a clone()",
       [] {
         leaf({2, 3}).select(0, 1).mul_(2);
       }},
      {"inplace-shape", T::InvalidArgument,
       "add_: the result of shape [2, 3] does not fit in place in a tensor of shape [3] (other "
       "is [2, 3] Float32)",
       [] {
         xg::ones({3}).add_(xg::ones({2, 3}));
       }},
      {"inplace-dtype", T::InvalidArgument,
       "mul_: the result type Float32 cannot be stored in place in an Int64 tensor ([3] Int64, "
       "other [3] Float32)",
       [] { xg::arange(3).mul_(xg::ones({3})); }},
      {"inplace-scalar-dtype", T::InvalidArgument,
       "div_: the result type Float32 cannot be stored in place in an Int64 tensor ([3] Int64)",
       [] { xg::arange(3).div_(2); }},
      {"copy-shape", T::InvalidArgument,
       "copy_: a source of shape [2, 3] does not broadcast to the destination's shape [3]",
       [] {
         xg::ones({3}).copy_(xg::ones({2, 3}));
       }},
      {"inplace-overlap", T::RuntimeError,
       "add_: [2, 3] Float32 has elements that share one memory location (an expand()ed or "
       "as_strided view), so it cannot be written in place; clone() it first",
       [] {
         xg::ones({3}).expand({2, 3}).add_(1);
       }},
      {"inplace-view-of-non-contiguous-base", T::RuntimeError,
       "mul_: [2] Float32 is a view of [3, 2] Float32, which is not contiguous: xgrad cannot "
       "record an in-place change of such a view; change base.contiguous() or a clone() instead",
       [] {
         const Tensor base = xg::ones({2, 3}).t().detach();  // strided, and no view itself
         base.select(0, 0).mul_(leaf({2}));
       }},

      // ---- shapes, dims and dtypes of ops ----
      {"broadcast", T::InvalidArgument,
       "add: shapes [2, 3] and [4] cannot be broadcast (size 3 != 4 at dim 1)",
       [] {
         xg::ones({2, 3}) + xg::ones({4});
       }},
      {"too-many-dims", T::InvalidArgument, "xgrad supports at most 16 dims, got 17",
       [] {
         const Tensor a = xg::ones(Shape(17, 1));
         a + xg::ones({1});
       }},
      {"dim-out-of-range", T::OutOfRange,
       "sum: dim 2 is out of range for a tensor of 2 dims (expected a dim in [-2, 1])",
       [] {
         xg::ones({2, 3}).sum({2});
       }},
      {"dims-twice", T::InvalidArgument, "sum: dims [1, -1] name the same dim twice",
       [] {
         xg::ones({2, 3}).sum({1, -1});
       }},
      {"pow-int-negative", T::InvalidArgument,
       "pow: an Int64 tensor [3] Int64 cannot be raised to a negative integer power",
       [] { xg::arange(3).pow(-1); }},
      {"pow-int-tensor-negative", T::InvalidArgument,
       "pow: integers to negative integer powers are not allowed",
       [] { xg::pow(xg::arange(3), xg::full({3}, -1, xg::kInt64)); }},
      {"clamp-no-bounds", T::InvalidArgument, "clamp: at least one of min and max must be given",
       [] { xg::clamp(xg::ones({2}), std::nullopt); }},
      {"bool-unsupported", T::InvalidArgument,
       "abs: expected a Float32, Float64 or Int64 tensor, got [3] Bool",
       [] { xg::abs(xg::ones({3}, xg::kBool)); }},
      {"sub-bool", T::InvalidArgument,
       "sub: subtraction with a Bool operand is not supported, got [3] Bool and [3] Bool; use "
       "logical_not() to invert a mask, logical_xor() to find where two masks differ",
       [] { xg::ones({3}, xg::kBool) - xg::zeros({3}, xg::kBool); }},
      {"integral-alpha", T::InvalidArgument,
       "add_: for integral input tensors, argument alpha must not be a floating point number, "
       "got [3] Int64 and [3] Int64",
       [] {
         xg::Tensor t = xg::arange(3);
         t.add_(xg::arange(3), 0.5);
       }},
      {"neg-bool", T::InvalidArgument,
       "neg: negation of a Bool tensor is not supported, got [3] Bool; use logical_not() to "
       "invert a mask",
       [] { -xg::ones({3}, xg::kBool); }},
      {"where-condition", T::InvalidArgument,
       "where: expected a Bool condition, got [2] Float32 (make one with a comparison, such as "
       "ne(cond, 0))",
       [] { xg::where(xg::ones({2}), xg::ones({2}), xg::zeros({2})); }},
      {"masked-fill-mask", T::InvalidArgument,
       "masked_fill: expected a Bool mask, got [2] Float32 (make one with a comparison, such as "
       "ne(mask, 0))",
       [] { xg::masked_fill(xg::ones({2}), xg::ones({2}), 0.0); }},
      {"masked-fill-value", T::InvalidArgument,
       "masked_fill: expected a 0-d value tensor, got [1] Float32",
       [] { xg::masked_fill(xg::ones({2}), xg::ones({2}, xg::kBool), xg::ones({1})); }},
      {"reduce-empty", T::InvalidArgument,
       "max: cannot reduce over dim 0 of size 0 of a [0] Float32 tensor (there is no identity "
       "to return)",
       [] { xg::zeros({0}).max(); }},
      {"matmul-mismatch", T::InvalidArgument,
       "mm: shapes [2, 3] and [4, 5] cannot be multiplied (3 != 4)",
       [] {
         xg::mm(xg::ones({2, 3}), xg::ones({4, 5}));
       }},
      {"matmul-dtype", T::InvalidArgument,
       "matmul: expected both operands to have the same dtype, got [2, 2] Float32 and [2, 2] "
       "Float64 (convert one with .to())",
       [] {
         xg::matmul(xg::ones({2, 2}), xg::ones({2, 2}, xg::kFloat64));
       }},
      {"mm-not-2d", T::InvalidArgument,
       "mm: expected 2-D tensors, got [3] Float32 and [3, 2] Float32 (use matmul for other "
       "ranks)",
       [] {
         xg::mm(xg::ones({3}), xg::ones({3, 2}));
       }},
      {"matmul-0d", T::InvalidArgument,
       "matmul: both arguments need at least 1 dim, got [] Float32 and [2] Float32",
       [] { xg::matmul(xg::scalar_tensor(2.0), xg::ones({2})); }},
      {"matmul-batch", T::InvalidArgument,
       "matmul: the batch dims of [2, 2, 3] Float32 and [3, 3, 4] Float32 do not broadcast ([2] "
       "and [3])",
       [] {
         xg::matmul(xg::ones({2, 2, 3}), xg::ones({3, 3, 4}));
       }},
      {"linear-dims", T::InvalidArgument,
       "linear: expected a 2-D weight [out, in] and an input with at least 1 dim, got input [2, "
       "3] Float32 and weight [3] Float32",
       [] {
         xg::linear(xg::ones({2, 3}), xg::ones({3}));
       }},
      {"t-dims", T::InvalidArgument,
       "t: expects a tensor of at most 2 dims, got [2, 2, 2] Float32 (use transpose or permute)",
       [] {
         xg::ones({2, 2, 2}).t();
       }},
      {"matrix-dims", T::InvalidArgument,
       "tril: expects a matrix or a batch of matrices, got [3] Float32",
       [] { xg::ones({3}).tril(); }},
      {"reshape-two-inferred", T::InvalidArgument, "reshape: only one dim can be -1, got [-1, -1]",
       [] {
         xg::ones({6}).reshape({-1, -1});
       }},
      {"reshape-invalid-size", T::InvalidArgument, "reshape: invalid size in shape [2, -3]",
       [] {
         xg::ones({6}).reshape({2, -3});
       }},
      {"reshape-numel", T::InvalidArgument,
       "reshape: shape [4] is invalid for a tensor of 6 elements ([2, 3] Float32)",
       [] {
         xg::ones({2, 3}).reshape({4});
       }},
      {"view-strides", T::InvalidArgument,
       "view: view size is not compatible with input tensor's size and stride (at least one "
       "dimension spans across two contiguous subspaces): [3, 2] Float32 with strides [1, 3] "
       "cannot be viewed as [6]. Use .reshape(...) instead.",
       [] {
         xg::ones({2, 3}).t().view({6});
       }},
      {"flatten-order", T::InvalidArgument,
       "flatten: start_dim 2 comes after end_dim 1 for [2, 3, 4] Float32",
       [] {
         xg::ones({2, 3, 4}).flatten(2, 1);
       }},
      {"permute-count", T::InvalidArgument,
       "permute: [1, 0, 2] has 3 dims but the tensor [2, 3] Float32 has 2",
       [] {
         xg::ones({2, 3}).permute({1, 0, 2});
       }},
      {"permute-repeat", T::InvalidArgument, "permute: dims [0, 0] name the same dim twice",
       [] {
         xg::ones({2, 3}).permute({0, 0});
       }},
      {"expand-fewer-dims", T::InvalidArgument,
       "expand: the target [3] has fewer dims than the tensor [2, 3] Float32",
       [] {
         xg::ones({2, 3}).expand({3});
       }},
      {"expand-new-dim-inferred", T::InvalidArgument,
       "expand: -1 is not allowed for a new leading dim, got [-1, 3]",
       [] {
         xg::ones({3}).expand({-1, 3});
       }},
      {"expand-size", T::InvalidArgument,
       "expand: the tensor [2, 3] Float32 cannot be expanded to [4, 3] (size 2 != 4 at dim 0; "
       "only size-1 dims expand)",
       [] {
         xg::ones({2, 3}).expand({4, 3});
       }},
      {"expand-invalid-size", T::InvalidArgument, "expand: invalid size in [-2, 3]",
       [] {
         xg::ones({1, 3}).expand({-2, 3});
       }},
      {"cat-empty", T::InvalidArgument, "cat: expected a non-empty list of tensors",
       [] { xg::cat({}); }},
      {"cat-0d", T::InvalidArgument, "cat: 0-d tensors cannot be concatenated (use stack)",
       [] {
         xg::cat({xg::scalar_tensor(1.0), xg::scalar_tensor(2.0)});
       }},
      {"cat-shape", T::InvalidArgument,
       "cat: tensor 1 [3, 4] Float32 does not match tensor 0 [2, 3] Float32 outside dim 0",
       [] {
         xg::cat({xg::ones({2, 3}), xg::ones({3, 4})});
       }},
      {"stack-empty", T::InvalidArgument, "stack: expected a non-empty list of tensors",
       [] { xg::stack({}); }},
      {"stack-shape", T::InvalidArgument,
       "stack: every tensor must have the same shape; tensor 0 is [2] Float32, tensor 1 is [3] "
       "Float32",
       [] {
         xg::stack({xg::ones({2}), xg::ones({3})});
       }},
      {"narrow-0d", T::InvalidArgument, "narrow: cannot narrow a 0-d tensor",
       [] { xg::scalar_tensor(1.0).narrow(0, 0, 1); }},
      {"narrow-range", T::OutOfRange,
       "narrow: start 2 and length 3 do not fit in dim 0 of size 4 of [4] Float32",
       [] { xg::ones({4}).narrow(0, 2, 3); }},
      {"select-0d", T::InvalidArgument, "select: cannot select from a 0-d tensor",
       [] { xg::scalar_tensor(1.0).select(0, 0); }},
      {"select-range", T::OutOfRange,
       "select: index 3 is out of range for dim 1 of size 3 of [2, 3] Float32",
       [] {
         xg::ones({2, 3}).select(1, 3);
       }},
      {"slice-0d", T::InvalidArgument, "slice: cannot slice a 0-d tensor",
       [] { xg::scalar_tensor(1.0).slice(0, 0, 1); }},
      {"slice-step", T::InvalidArgument, "slice: step must be positive, got 0",
       [] { xg::ones({4}).slice(0, 0, 4, 0); }},
      {"split-0d", T::InvalidArgument, "split: cannot split a 0-d tensor",
       [] { xg::scalar_tensor(1.0).split(1); }},
      {"split-size", T::InvalidArgument,
       "split: split_size must be positive (0 only for an empty dim), got 0 for dim 0 of [4] "
       "Float32",
       [] { xg::ones({4}).split(0); }},
      {"split-with-sizes-0d", T::InvalidArgument, "split_with_sizes: cannot split a 0-d tensor",
       [] { xg::scalar_tensor(1.0).split_with_sizes({1}); }},
      {"split-with-sizes-invalid", T::InvalidArgument, "split_with_sizes: invalid sizes [2, -1, 3]",
       [] {
         xg::ones({4}).split_with_sizes({2, -1, 3});
       }},
      {"split-with-sizes-sum", T::InvalidArgument,
       "split_with_sizes: the sizes [2, 2] add up to 4, not to the size 5 of dim 1 of [2, 5] "
       "Float32",
       [] {
         xg::ones({2, 5}).split_with_sizes({2, 2}, 1);
       }},
      {"chunk-0d", T::InvalidArgument, "chunk: cannot chunk a 0-d tensor",
       [] { xg::scalar_tensor(1.0).chunk(2); }},
      {"chunk-count", T::InvalidArgument, "chunk: the number of chunks must be positive, got 0",
       [] { xg::ones({4}).chunk(0); }},
      {"chunk-empty-count", T::InvalidArgument,
       "chunk: 4611686018427387904 empty pieces of dim 0 of [0] Float32 are more than the "
       "16777216 a list of pieces may hold",
       [] { xg::zeros({0}).chunk(std::int64_t{1} << 62); }},
      {"unbind-0d", T::InvalidArgument, "unbind: cannot unbind a 0-d tensor",
       [] { xg::scalar_tensor(1.0).unbind(); }},
      {"as-strided-length", T::InvalidArgument,
       "as_strided: sizes [2, 3] and strides [3] have different lengths",
       [] {
         xg::ones({6}).as_strided({2, 3}, {3});
       }},
      {"as-strided-negative-stride", T::InvalidArgument,
       "as_strided: negative strides are not supported, got [-3, 1]",
       [] {
         xg::ones({6}).as_strided({2, 3}, {-3, 1});
       }},
      {"as-strided-negative-offset", T::InvalidArgument,
       "as_strided: the storage offset must be >= 0, got -1",
       [] { xg::ones({6}).as_strided({2}, {1}, -1); }},
      {"as-strided-bounds", T::InvalidArgument,
       "as_strided: sizes [2, 3], strides [3, 1], storage offset 1 and itemsize 4 need a storage "
       "of 28 bytes, out of bounds for the storage of 24 bytes behind [6] Float32",
       [] {
         xg::ones({6}).as_strided({2, 3}, {3, 1}, 1);
       }},
      {"index-select-index", T::InvalidArgument,
       "index_select: the index must be a 1-D (or 0-d) Int64 tensor, got [2] Float32",
       [] {
         xg::ones({3, 2}).index_select(0, xg::ones({2}));
       }},
      {"index-select-range", T::OutOfRange,
       "index_select: index 5 is out of range for dim 0 of size 3 of [3, 2] Float32",
       [] {
         xg::ones({3, 2}).index_select(0, xg::tensor({0, 5}, xg::kInt64));
       }},
      {"index-select-0d", T::InvalidArgument,
       "index_select: a 0-d tensor [] Float32 takes an index of exactly one element, got [2] "
       "Int64",
       [] {
         xg::scalar_tensor(1.0).index_select(0, xg::tensor({0, 0}, xg::kInt64));
       }},
      {"gather-index", T::InvalidArgument, "gather: expected an Int64 index, got [2, 1] Float32",
       [] {
         xg::gather(xg::ones({2, 3}), 1, xg::zeros({2, 1}));
       }},
      {"gather-index-dims", T::InvalidArgument,
       "gather: the index [2] Int64 must have as many dims as the tensor [2, 3] Float32",
       [] {
         xg::gather(xg::ones({2, 3}), 1, xg::tensor({0, 1}, xg::kInt64));
       }},
      {"gather-index-size", T::InvalidArgument,
       "gather: the index [3, 1] Int64 is larger than the tensor [2, 3] Float32 at dim 0 (only "
       "dim 1, the one gathered along, may be larger)",
       [] {
         xg::gather(xg::ones({2, 3}), 1, xg::tensor({0, 1, 0}, {3, 1}, xg::kInt64));
       }},
      {"gather-range", T::OutOfRange,
       "gather: index 3 is out of range for dim 1 of size 3 of [2, 3] Float32",
       [] {
         xg::ones({2, 3}).gather(1, xg::tensor({0, 3}, {2, 1}, xg::kInt64));
       }},
      {"index-string", T::InvalidArgument,
       "index: the only string index is \"...\" (Ellipsis), got \"..\"",
       [] {
         xg::ones({2, 3}).index({"..", 0});
       }},
      {"index-ellipses", T::InvalidArgument,
       "index: an index can only have a single ellipsis ('...'), got 2 for [2, 3, 4] Float32",
       [] {
         xg::ones({2, 3, 4}).index({"...", 0, xg::indexing::Ellipsis});
       }},
      {"index-too-many", T::OutOfRange,
       "index: too many indices for tensor of dimension 2 ([2, 3] Float32): the index uses 3 "
       "dims",
       [] {
         xg::ones({2, 3}).index({0, 1, 2});
       }},
      {"index-several-tensors", T::InvalidArgument,
       "index: one tensor index at most, counting true/false and Bool masks (advanced indexing "
       "with several is not supported), got 2 for [3, 4] Float32",
       [] {
         xg::ones({3, 4}).index({xg::tensor({0, 1}, xg::kInt64), xg::tensor({1, 2}, xg::kInt64)});
       }},
      {"index-tensor-dtype", T::InvalidArgument,
       "index: a tensor index must be Int64 or Bool, got [2] Float32 for [3] Float32",
       [] {
         xg::ones({3}).index({xg::tensor({0, 1})});
       }},
      {"index-tensor-dims", T::InvalidArgument,
       "index: an Int64 tensor index must be 0-d or 1-D (multi-dim index tensors are not "
       "supported), got [2, 2] Int64 for [3, 4] Float32",
       [] {
         xg::ones({3, 4}).index({xg::tensor({0, 2, 1, 1}, {2, 2}, xg::kInt64)});
       }},
      {"index-mask", T::InvalidArgument,
       "index: a Bool mask [3] Bool must be the only index and have the tensor's shape [3, 4] "
       "Float32 (other mask indexing is not supported)",
       [] {
         xg::ones({3, 4}).index({xg::tensor({1, 0, 1}, xg::kBool)});
       }},
      {"index-range", T::OutOfRange,
       "index: index 3 is out of range for dim 1 of size 3 of [2, 3] Float32",
       [] {
         xg::ones({2, 3}).index({xg::indexing::Slice(), 3});
       }},
      {"index-slice-step", T::InvalidArgument,
       "index: slice step must be positive, got 0 for dim 0 of [5] Float32",
       [] {
         xg::ones({5}).index({xg::indexing::Slice(xg::indexing::None, xg::indexing::None, 0)});
       }},
      {"diagonal-dims", T::InvalidArgument,
       "diagonal: dim1 and dim2 must be different dims, got 1 and -1 for [2, 3] Float32",
       [] {
         xg::diagonal(xg::ones({2, 3}), 0, 1, -1);
       }},
      {"unflatten-0d", T::InvalidArgument, "unflatten: cannot unflatten a 0-d tensor",
       [] { xg::unflatten(xg::scalar_tensor(1.0), 0, {1}); }},
      {"unflatten-empty", T::InvalidArgument, "unflatten: sizes must be non-empty",
       [] {
         xg::unflatten(xg::ones({2, 3}), 1, {});
       }},
      {"unflatten-infer", T::InvalidArgument, "unflatten: only one size can be -1, got [-1, -1]",
       [] {
         xg::ones({2, 3}).unflatten(1, {-1, -1});
       }},
      {"unflatten-size", T::InvalidArgument, "unflatten: invalid size in [2, -2]",
       [] {
         xg::unflatten(xg::ones({2, 4}), 1, {2, -2});
       }},
      {"unflatten-product", T::InvalidArgument,
       "unflatten: sizes [2, 2] don't multiply up to the size of dim 1 (3) of [2, 3] Float32",
       [] {
         xg::unflatten(xg::ones({2, 3}), 1, {2, 2});
       }},

      // ---- backward and autograd::grad ----
      {"backward-gradient-count", T::InvalidArgument, "backward: got 1 gradients for 2 tensors",
       [] {
         const Tensor w = leaf({2});
         xg::autograd::backward({w.sum(), w.mean()}, {xg::ones({})});
       }},
      {"queue-callback-outside-backward", T::LogicError,
       "queue_callback: no backward pass is running on this thread",
       [] { xg::autograd::queue_callback([] {}); }},
      {"backward-no-graph", T::RuntimeError,
       "backward: element 0 of the tensors ([2] Float32) does not require grad and has no "
       "grad_fn; did you forget requires_grad_() on a leaf, or compute it under NoGradGuard?",
       [] { xg::ones({2}).backward(xg::ones({2})); }},
      {"backward-not-scalar", T::RuntimeError,
       "backward: grad can be implicitly created only for scalar outputs; [2] Float32 has "
       "several elements, so pass a gradient of its shape",
       [] { (leaf({2}) * 2).backward(); }},
      {"backward-gradient-shape", T::InvalidArgument,
       "backward: the gradient [3] Float32 does not match the shape of the tensor [2] Float32",
       [] { (leaf({2}) * 2).backward(xg::ones({3})); }},
      {"grad-input-no-grad", T::RuntimeError, "grad: input 0 ([2] Float32) does not require grad",
       [] { xg::autograd::grad({(leaf({2}) * 2).sum()}, {xg::ones({2})}); }},
      {"grad-input-unused", T::RuntimeError,
       "grad: input 1 ([2] Float32) was not used in the graph of the outputs; pass "
       "allow_unused=true to get an undefined gradient for it",
       [] {
         const Tensor w = leaf({2}), v = leaf({2});
         xg::autograd::grad({(w * 2).sum()}, {w, v});
       }},
      {"grad-no-inputs", T::InvalidArgument, "grad: expected at least one input",
       [] { xg::autograd::grad({(leaf({2}) * 2).sum()}, {}); }},
      {"backward-twice", T::RuntimeError,
       "backward: trying to backward through the graph a second time (or to use saved tensors "
       "after they have been freed) at ExpBackward (exp on [2] Float32); pass retain_graph=true "
       "to the first backward if you need to run it twice",
       [] {
         const Tensor y = xg::exp(leaf({2})).sum();
         y.backward();
         y.backward();
       }},
      {"saved-tensor-modified", T::RuntimeError,
       "backward: a tensor needed for gradient computation was modified by an in-place "
       "operation: MulBackward (mul on [2] Float32, [2] Float32) saved it at version 0, it is "
       "now at version 1; change a clone() instead, or do the in-place op after backward",
       [] {
         Tensor x = xg::ones({2});
         const Tensor y = (leaf({2}) * x).sum();
         x.add_(1);
         y.backward();
       }},
      {"anomaly", T::RuntimeError,
       "DetectAnomaly: SqrtBackward produced a NaN or an infinity in the gradient of its input "
       "0; the forward op was sqrt on [1] Float32",
       [] {
         xg::autograd::DetectAnomalyGuard anomaly;
         xg::sqrt(xg::zeros({1}, xg::requires_grad())).sum().backward();
       }},

      // ---- custom autograd Functions ----
      {"function-gradient-count", T::RuntimeError,
       "backward: TooManyGradsBackward returned 3 gradients, expected 1 (one per tensor input) "
       "or 2 (one per forward argument)",
       [] { TooManyGrads::apply(leaf({2}), 2.0).sum().backward(); }},
      {"function-gradient-shape", T::RuntimeError,
       "backward: WrongShapeGradBackward returned a gradient of shape [3] for input 0, which has "
       "shape [2] (WrongShapeGrad on [2] Float32)",
       [] { WrongShapeGrad::apply(leaf({2})).sum().backward(); }},
      {"function-twice", T::RuntimeError,
       "backward: DoubleBackward was already run and its saved tensors freed; pass "
       "retain_graph=true to the first backward to run it twice",
       [] {
         const Tensor y = Double::apply(leaf({2})).sum();
         y.backward();
         y.backward();
       }},
      {"saved-variables-outside-backward", T::RuntimeError,
       "get_saved_variables: only backward can read the saved tensors",
       [] {
         AutogradContext ctx;
         ctx.get_saved_variables();
       }},
      {"saved-data-kind", T::InvalidArgument, "saved_data: the value is not an int",
       [] { xg::autograd::SavedValue(1.5).toInt(); }},

      // ---- optimizers ----
      {"param-group-no-options", T::LogicError, "OptimizerParamGroup: the group has no options yet",
       [] { xg::optim::OptimizerParamGroup({leaf({2})}).options(); }},
      {"optimizer-option", T::InvalidArgument, "SGD: invalid lr -0.1 (must be >= 0)",
       [] { xg::optim::SGD({leaf({2})}, xg::optim::SGDOptions(-0.1)); }},
      {"optimizer-param-undefined", T::InvalidArgument,
       "SGD: parameter 0 of the group is an undefined tensor",
       [] { xg::optim::SGD({Tensor()}, xg::optim::SGDOptions(0.1)); }},
      {"optimizer-param-int", T::InvalidArgument,
       "Adam: parameter 0 of the group is Int64; only Float32 and Float64 tensors can be "
       "optimized",
       [] { xg::optim::Adam({xg::arange(3)}, xg::optim::AdamOptions(0.1)); }},
      {"optimizer-param-non-leaf", T::InvalidArgument,
       "SGD: parameter 0 of the group ([2]) was computed by an op; only leaf tensors can be "
       "optimized",
       [] { xg::optim::SGD({leaf({2}) * 2}, xg::optim::SGDOptions(0.1)); }},
      {"optimizer-param-twice", T::InvalidArgument,
       "SGD: parameter 1 of the group ([2]) appears more than once among the optimizer's "
       "parameters",
       [] {
         const Tensor w = leaf({2});
         xg::optim::SGD({w, w}, xg::optim::SGDOptions(0.1));
       }},
      {"optimizer-gradient-shape", T::InvalidArgument,
       "SGD.step: parameter 0 ([2] Float32) has a gradient of [3] Float32; nothing was updated",
       [] {
         const Tensor w = leaf({2});
         xg::optim::SGD opt({w}, xg::optim::SGDOptions(0.1));
         w.mutable_grad() = xg::ones({3});
         opt.step();
       }},
      {"state-wrong-optimizer", T::InvalidArgument,
       "SGD: load_state_dict got a state saved by Adam; it takes only a state saved by SGD",
       [] { load_edited_sgd_state([](auto& s) { s.optimizer = "Adam"; }); }},
      {"state-unexpected-entry", T::InvalidArgument, "SGD: load_state_dict: unexpected entry 'lr'",
       [] { load_edited_sgd_state([](auto& s) { s.tensors["lr"] = xg::scalar_tensor(0.1); }); }},
      {"state-params-not-int", T::InvalidArgument,
       "SGD: load_state_dict: 'param_groups.0.params' must be a 1-D Int64 tensor",
       [] {
         load_edited_sgd_state(
             [](auto& s) { s.tensors["param_groups.0.params"] = xg::zeros({1}); });
       }},
      {"state-option-not-one-number", T::InvalidArgument,
       "SGD: load_state_dict: option 'param_groups.0.lr' must hold one number",
       [] {
         load_edited_sgd_state([](auto& s) { s.tensors["param_groups.0.lr"] = xg::zeros({2}); });
       }},
      {"state-unexpected-group", T::InvalidArgument,
       "SGD: load_state_dict: unexpected entry 'param_groups.1.lr' (the optimizer has 1 "
       "parameter groups)",
       [] {
         load_edited_sgd_state(
             [](auto& s) { s.tensors["param_groups.1.lr"] = xg::scalar_tensor(0.1); });
       }},
      {"state-group-size", T::InvalidArgument,
       "SGD: load_state_dict: group 0 has 1 parameters, the state has 2",
       [] {
         load_edited_sgd_state([](auto& s) {
           s.tensors["param_groups.0.params"] = xg::tensor({0, 1}, xg::kInt64);
         });
       }},
      {"state-group-order", T::InvalidArgument,
       "SGD: load_state_dict: group 0 lists its parameters out of order",
       [] {
         xg::optim::SGD opt({leaf({2}), leaf({2})}, xg::optim::SGDOptions(0.1));
         auto state = opt.state_dict();
         state.tensors["param_groups.0.params"] = xg::tensor({1, 0}, xg::kInt64);
         opt.load_state_dict(state);
       }},
      {"state-parameter-index", T::InvalidArgument,
       "SGD: load_state_dict: state for parameter 3, but the optimizer has 1",
       [] {
         load_edited_sgd_state(
             [](auto& s) { s.tensors["state.3.momentum_buffer"] = xg::zeros({2}); });
       }},
      {"state-missing-option", T::InvalidArgument, "SGD: the state has no option 'momentum'",
       [] { load_edited_sgd_state([](auto& s) { s.tensors.erase("param_groups.0.momentum"); }); }},
      {"state-unknown-option", T::InvalidArgument, "SGD: the state has an unknown option 'foo'",
       [] {
         load_edited_sgd_state(
             [](auto& s) { s.tensors["param_groups.0.foo"] = xg::scalar_tensor(1.0); });
       }},
      {"state-unexpected-state", T::InvalidArgument,
       "SGD: load_state_dict: unexpected state 'exp_avg'",
       [] {
         load_edited_sgd_state([](auto& s) { s.tensors["state.0.exp_avg"] = xg::zeros({2}); });
       }},
      {"state-momentum-buffer", T::InvalidArgument,
       "SGD: load_state_dict: a momentum buffer of [3] Float32 does not fit a parameter of [2] "
       "Float32",
       [] {
         load_edited_sgd_state(
             [](auto& s) { s.tensors["state.0.momentum_buffer"] = xg::zeros({3}); });
       }},
      {"state-adam-missing", T::InvalidArgument,
       "Adam: load_state_dict: a parameter's state has no 'exp_avg_sq'",
       [] {
         load_adam_state({{"step", xg::scalar_tensor(1, xg::kInt64)}, {"exp_avg", xg::zeros({2})}});
       }},
      {"state-adam-step", T::InvalidArgument,
       "Adam: load_state_dict: 'step' must be one Int64 >= 0",
       [] {
         load_adam_state({{"step", xg::scalar_tensor(-1, xg::kInt64)},
                          {"exp_avg", xg::zeros({2})},
                          {"exp_avg_sq", xg::zeros({2})}});
       }},
      {"state-adam-shape", T::InvalidArgument,
       "Adam: load_state_dict: 'exp_avg' of [3] Float32 does not fit a parameter of [2] Float32",
       [] {
         load_adam_state({{"step", xg::scalar_tensor(1, xg::kInt64)},
                          {"exp_avg", xg::zeros({3})},
                          {"exp_avg_sq", xg::zeros({2})}});
       }},

      // ---- gradient clipping ----
      {"clip-grad-max-norm", T::InvalidArgument, "clip_grad_norm_: max_norm must be >= 0, got -1",
       [] { xg::nn::utils::clip_grad_norm_({leaf({2})}, -1.0); }},
      {"clip-grad-norm-type", T::InvalidArgument,
       "clip_grad_norm_: norm_type must be > 0 (or infinity), got 0",
       [] { xg::nn::utils::clip_grad_norm_({leaf({2})}, 1.0, 0.0); }},
      {"clip-grad-nonfinite", T::RuntimeError,
       "clip_grad_norm_: the total norm of order 2 of the gradients is inf, so they cannot be "
       "clipped; nothing was changed",
       [] {
         const Tensor w = leaf({2});
         w.mutable_grad() = xg::full({2}, std::numeric_limits<double>::infinity());
         xg::nn::utils::clip_grad_norm_({w}, 1.0, 2.0, /*error_if_nonfinite=*/true);
       }},
      {"clip-grad-value", T::InvalidArgument, "clip_grad_value_: clip_value must be >= 0, got -0.5",
       [] { xg::nn::utils::clip_grad_value_({leaf({2})}, -0.5); }},

      // ---- learning-rate schedulers ----
      {"scheduler-groups-changed", T::RuntimeError,
       "LRScheduler: the optimizer had 1 parameter groups when the scheduler was made and has 2 "
       "now",
       [] {
         xg::optim::SGD opt({leaf({2})}, xg::optim::SGDOptions(0.1));
         xg::optim::StepLR scheduler(opt, 1);
         opt.add_param_group(xg::optim::OptimizerParamGroup({leaf({2})}));
         scheduler.step();
       }},
      {"steplr-step-size", T::InvalidArgument, "StepLR: step_size must be > 0, got 0",
       [] {
         xg::optim::SGD opt({leaf({2})}, xg::optim::SGDOptions(0.1));
         xg::optim::StepLR(opt, 0);
       }},
      {"cosine-t-max", T::InvalidArgument, "CosineAnnealingLR: T_max must be > 0, got 0",
       [] {
         xg::optim::SGD opt({leaf({2})}, xg::optim::SGDOptions(0.1));
         xg::optim::CosineAnnealingLR(opt, 0);
       }},
      {"linearlr-start-factor", T::InvalidArgument,
       "LinearLR: start_factor must be in (0, 1], got 0.000000",
       [] {
         xg::optim::SGD opt({leaf({2})}, xg::optim::SGDOptions(0.1));
         xg::optim::LinearLR(opt, 0.0);
       }},
      {"linearlr-end-factor", T::InvalidArgument,
       "LinearLR: end_factor must be in [0, 1], got 1.500000",
       [] {
         xg::optim::SGD opt({leaf({2})}, xg::optim::SGDOptions(0.1));
         xg::optim::LinearLR(opt, 0.5, 1.5);
       }},
      {"linearlr-total-iters", T::InvalidArgument, "LinearLR: total_iters must be > 0, got 0",
       [] {
         xg::optim::SGD opt({leaf({2})}, xg::optim::SGDOptions(0.1));
         xg::optim::LinearLR(opt, 0.5, 1.0, 0);
       }},
      {"lambdalr-count", T::InvalidArgument,
       "LambdaLR: expected 1 lr_lambdas (one per parameter group), got 2",
       [] {
         xg::optim::SGD opt({leaf({2})}, xg::optim::SGDOptions(0.1));
         const xg::optim::LrLambda one = [](std::int64_t) { return 1.0; };
         xg::optim::LambdaLR(opt, std::vector<xg::optim::LrLambda>{one, one});
       }},
      {"lambdalr-empty", T::InvalidArgument, "LambdaLR: lr_lambda 0 is an empty std::function",
       [] {
         xg::optim::SGD opt({leaf({2})}, xg::optim::SGDOptions(0.1));
         xg::optim::LambdaLR(opt, xg::optim::LrLambda());
       }},
      {"sequentiallr-null", T::InvalidArgument, "SequentialLR: scheduler 1 is null",
       [] {
         xg::optim::SGD opt({leaf({2})}, xg::optim::SGDOptions(0.1));
         auto first = std::make_shared<xg::optim::LinearLR>(opt);
         xg::optim::SequentialLR(opt, {first, nullptr}, {3});
       }},
      {"sequentiallr-nested", T::InvalidArgument,
       "SequentialLR: scheduler 0 is a SequentialLR; they cannot be nested",
       [] {
         xg::optim::SGD opt({leaf({2})}, xg::optim::SGDOptions(0.1));
         auto first = std::make_shared<xg::optim::LinearLR>(opt);
         auto second = std::make_shared<xg::optim::ExponentialLR>(opt, 0.9);
         auto inner = std::make_shared<xg::optim::SequentialLR>(
             opt, std::vector<std::shared_ptr<xg::optim::LRScheduler>>{first, second},
             std::vector<std::int64_t>{3});
         xg::optim::SequentialLR(opt, {inner, second}, {5});
       }},
      {"sequentiallr-optimizer", T::InvalidArgument,
       "SequentialLR: expects all schedulers to belong to the same optimizer, but scheduler 1 "
       "belongs to another optimizer than the one passed in",
       [] {
         xg::optim::SGD opt({leaf({2})}, xg::optim::SGDOptions(0.1));
         xg::optim::SGD other({leaf({2})}, xg::optim::SGDOptions(0.1));
         auto first = std::make_shared<xg::optim::LinearLR>(opt);
         auto second = std::make_shared<xg::optim::ExponentialLR>(other, 0.9);
         xg::optim::SequentialLR(opt, {first, second}, {3});
       }},
      {"sequentiallr-milestones", T::InvalidArgument,
       "SequentialLR: expects one scheduler more than milestones, but got 2 schedulers and 2 "
       "milestones",
       [] {
         xg::optim::SGD opt({leaf({2})}, xg::optim::SGDOptions(0.1));
         auto first = std::make_shared<xg::optim::LinearLR>(opt);
         auto second = std::make_shared<xg::optim::ExponentialLR>(opt, 0.9);
         xg::optim::SequentialLR(opt, {first, second}, {3, 5});
       }},

      // ---- modules and layers ----
      {"module-name", T::InvalidArgument,
       "Net: parameter name 'fc.weight' must be non-empty and contain no '.'",
       [] { xg::nn::Module("Net").register_parameter("fc.weight", xg::ones({2})); }},
      {"module-name-taken", T::InvalidArgument, "Net: the name 'w' is taken by a parameter",
       [] {
         xg::nn::Module net("Net");
         net.register_parameter("w", xg::ones({2}));
         net.register_buffer("w", xg::ones({2}));
       }},
      {"module-no-forward", T::LogicError,
       "Net: forward(const Tensor&) is not defined for this module",
       [] { xg::nn::Module("Net").forward(xg::ones({2})); }},
      {"module-parameter-undefined", T::InvalidArgument,
       "Net: parameter 'w' is an undefined tensor",
       [] { xg::nn::Module("Net").register_parameter("w", Tensor()); }},
      {"module-submodule-null", T::InvalidArgument, "Sequential: submodule '0' is null",
       [] { xg::nn::Sequential().push_back(nullptr); }},
      {"module-to-int", T::InvalidArgument,
       "Linear.to: modules convert to Float32 or Float64 only, got Int64",
       [] { xg::nn::Linear(2, 3).to(xg::kInt64); }},
      {"module-get-submodule", T::InvalidArgument,
       "Net.get_parameter: no parameter 'fc1.wieght': Linear has no parameter 'wieght'",
       [] {
         xg::nn::Module net("Net");
         net.register_module("fc1", std::make_shared<xg::nn::Linear>(2, 3));
         net.get_parameter("fc1.wieght");
       }},
      {"module-list-index", T::OutOfRange,
       "ModuleList: index 3 is out of range for a list of 2 modules",
       [] {
         xg::nn::ModuleList list{std::make_shared<xg::nn::ReLU>(),
                                 std::make_shared<xg::nn::Tanh>()};
         (void)list[3];
       }},
      {"module-dict-key", T::OutOfRange, "ModuleDict: no module under the key 'mlp'",
       [] { (void)xg::nn::ModuleDict()["mlp"]; }},
      {"linear-features", T::InvalidArgument,
       "Linear: in_features and out_features must be positive, got 0 and 3",
       [] { xg::nn::Linear(0, 3); }},
      {"embedding-sizes", T::InvalidArgument,
       "Embedding: num_embeddings and embedding_dim must be positive, got 0 and 3",
       [] { xg::nn::Embedding(0, 3); }},
      {"embedding-indices", T::InvalidArgument,
       "Embedding: indices must be an Int64 tensor, got [2] Float32",
       [] { xg::nn::Embedding(5, 3).forward(xg::ones({2})); }},
      {"layernorm-shape", T::InvalidArgument,
       "LayerNorm: expected input with trailing shape [4], got [2, 3]",
       [] {
         xg::nn::LayerNorm(4).forward(xg::ones({2, 3}));
       }},
      {"layer-norm-no-dims", T::InvalidArgument,
       "layer_norm: normalized_shape must have at least one dim, got []",
       [] {
         xg::nn::functional::layer_norm(xg::ones({2, 3}), {});
       }},
      {"layer-norm-input", T::InvalidArgument,
       "layer_norm: expected a floating input, got [3] Int64",
       [] { xg::nn::functional::layer_norm(xg::arange(3), {3}); }},
      {"layer-norm-affine", T::InvalidArgument,
       "layer_norm: weight must have shape [3] and the input's dtype Float32, got [4] Float32",
       [] {
         xg::nn::functional::layer_norm(xg::ones({2, 3}), {3}, xg::ones({4}));
       }},
      {"gelu-approximate", T::InvalidArgument,
       "gelu: approximate must be 'none' or 'tanh', got 'Tanh'",
       [] { xg::gelu(xg::ones({2}), "Tanh"); }},
      {"dropout-p", T::InvalidArgument, "Dropout: p must be in [0, 1], got 1.500000",
       [] { xg::nn::Dropout(1.5); }},
      {"sdpa-dtype", T::InvalidArgument,
       "scaled_dot_product_attention: query, key and value must be Float32 or Float64 tensors of "
       "one dtype, got query [2, 4] Float32, key [2, 4] Float64, value [2, 4] Float32",
       [] {
         xg::nn::functional::scaled_dot_product_attention(
             xg::ones({2, 4}), xg::ones({2, 4}, xg::kFloat64), xg::ones({2, 4}));
       }},
      {"sdpa-dims", T::InvalidArgument,
       "scaled_dot_product_attention: query, key and value need at least 2 dims ([..., L, E], "
       "[..., S, E], [..., S, Ev]), got query [4] Float32, key [2, 4] Float32, value [2, 4] "
       "Float32",
       [] {
         xg::nn::functional::scaled_dot_product_attention(xg::ones({4}), xg::ones({2, 4}),
                                                          xg::ones({2, 4}));
       }},
      {"sdpa-shapes", T::InvalidArgument,
       "scaled_dot_product_attention: expected query [..., L, E], key [..., S, E] and value "
       "[..., S, Ev], got query [2, 4] Float32, key [3, 4] Float32, value [2, 5] Float32",
       [] {
         xg::nn::functional::scaled_dot_product_attention(xg::ones({2, 4}), xg::ones({3, 4}),
                                                          xg::ones({2, 5}));
       }},
      {"sdpa-mask-and-causal", T::InvalidArgument,
       "scaled_dot_product_attention: pass attn_mask or is_causal=true, not both (got a mask "
       "[2, 2] Bool)",
       [] {
         xg::nn::functional::scaled_dot_product_attention(xg::ones({2, 4}), xg::ones({2, 4}),
                                                          xg::ones({2, 4}),
                                                          xg::ones({2, 2}, xg::kBool), 0.0, true);
       }},
      {"sdpa-dropout-p", T::InvalidArgument,
       "scaled_dot_product_attention: dropout_p must be in [0, 1], got 1.500000",
       [] {
         xg::nn::functional::scaled_dot_product_attention(xg::ones({2, 4}), xg::ones({2, 4}),
                                                          xg::ones({2, 4}), {}, 1.5);
       }},
      {"sdpa-mask-dtype", T::InvalidArgument,
       "scaled_dot_product_attention: attn_mask must be Bool or of the query's dtype Float32, "
       "got [2, 2] Int64",
       [] {
         xg::nn::functional::scaled_dot_product_attention(
             xg::ones({2, 4}), xg::ones({2, 4}), xg::ones({2, 4}), xg::ones({2, 2}, xg::kInt64));
       }},
      {"sdpa-mask-shape", T::InvalidArgument,
       "scaled_dot_product_attention: attn_mask [3, 2] Bool does not broadcast to the attention "
       "weights' shape [2, 2] (query [2, 4] Float32, key [2, 4] Float32, value [2, 4] Float32)",
       [] {
         xg::nn::functional::scaled_dot_product_attention(
             xg::ones({2, 4}), xg::ones({2, 4}), xg::ones({2, 4}), xg::ones({3, 2}, xg::kBool));
       }},
      {"init-fans", T::InvalidArgument,
       "xavier_uniform_: fan in and fan out need at least 2 dims, got [3]",
       [] { xg::nn::init::xavier_uniform_(xg::ones({3})); }},

      // ---- losses ----
      {"loss-shapes", T::InvalidArgument,
       "mse_loss: expected floating input and target of the same shape, got [2] Float32 and "
       "[3] Float32",
       [] { xg::nn::functional::mse_loss(xg::ones({2}), xg::ones({3})); }},
      {"loss-scores", T::InvalidArgument,
       "cross_entropy: expected floating scores of shape [N, C], [C] or [N, C, d...], got [3] "
       "Int64",
       [] { xg::nn::functional::cross_entropy(xg::arange(3), xg::arange(3)); }},
      {"loss-target-dtype", T::InvalidArgument,
       "cross_entropy: targets must be Int64 class indices, got [2] Float32",
       [] {
         xg::nn::functional::cross_entropy(xg::ones({2, 3}), xg::zeros({2}));
       }},
      {"loss-target-shape", T::InvalidArgument,
       "cross_entropy: input [2, 3] Float32 needs targets of shape [2], got [3] Int64",
       [] {
         xg::nn::functional::cross_entropy(xg::ones({2, 3}), xg::arange(3));
       }},
      {"loss-target-range", T::OutOfRange, "nll_loss: target 3 is out of range for 3 classes",
       [] {
         xg::nn::functional::nll_loss(xg::ones({2, 3}), xg::tensor({0, 3}, xg::kInt64));
       }},
      {"label-smoothing", T::InvalidArgument,
       "cross_entropy: label_smoothing must be in [0, 1], got 1.500000",
       [] {
         xg::nn::functional::cross_entropy(xg::ones({2, 3}), xg::tensor({0, 1}, xg::kInt64),
                                           xg::nn::Reduction::Mean, -100, 1.5);
       }},

      // ---- mini-batches ----
      {"batch-sampler-sizes", T::InvalidArgument,
       "BatchSampler: size and batch_size must be positive, got 0 and 4",
       [] { xg::nn::BatchSampler(0, 4); }},
      {"sampler-replicas", T::InvalidArgument,
       "DistributedSampler: size and num_replicas must be positive, got 10 and 0",
       [] { xg::nn::DistributedSampler(10, 0, 0); }},
      {"sampler-rank", T::OutOfRange, "DistributedSampler: rank 2 is not in [0, 2)",
       [] { xg::nn::DistributedSampler(10, 2, 2); }},
      {"sampler-drop-last", T::InvalidArgument,
       "DistributedSampler: with drop_last, 2 samples leave nothing for each of 3 replicas",
       [] { xg::nn::DistributedSampler(2, 3, 0, true, 0, true); }},
      {"batch-sampler-drop-last", T::InvalidArgument,
       "BatchSampler: with drop_last, a batch of 8 never fits in 5 samples",
       [] { xg::nn::BatchSampler(5, 8, true, 0, true); }},
      {"batch-sampler-epochs", T::InvalidArgument,
       "BatchSampler::take: epochs must be finite and >= 0, got -1.000000",
       [] { xg::nn::BatchSampler(5, 2).take(-1); }},

      // ---- checkpoints: saving and loading files ----
      {"save-name", T::InvalidArgument, "save: '__metadata__' cannot name a tensor",
       [] {
         xg::save(xg::TensorMap{{"__metadata__", xg::ones({1})}}, "model.safetensors");
       }},
      {"save-undefined", T::InvalidArgument, "save: tensor 'w' is undefined",
       [] {
         xg::save(xg::TensorMap{{"w", Tensor()}}, "model.safetensors");
       }},
      {"save-not-utf8", T::InvalidArgument, "save: the tensor name 'caf\\xe9' is not valid UTF-8",
       [] {
         xg::save(xg::TensorMap{{"caf\xe9", xg::ones({1})}}, "model.safetensors");
       }},
      {"save-not-a-file", T::RuntimeError, "save: checkpoints is a directory, not a regular file",
       [] {
         fs::create_directory("checkpoints");
         xg::save(xg::TensorMap{{"w", xg::ones({1})}}, "checkpoints");
       }},
      {"save-create", T::RuntimeError,
       "save: cannot create a temporary file next to missing/model.safetensors: No such file or "
       "directory",
       [] {
         xg::save(xg::TensorMap{{"w", xg::ones({1})}}, "missing/model.safetensors");
       }},
      {"save-write", T::RuntimeError, "save: cannot write model.safetensors: File too large",
       [] {
         with_file_size_limit(64, [] {
           xg::save(xg::TensorMap{{"w", xg::ones({1000})}}, "model.safetensors");
         });
       }},
      {"load-open", T::RuntimeError,
       "load: cannot open missing/model.safetensors: No such file or directory",
       [] { xg::load("missing/model.safetensors"); }},
      {"load-read", T::RuntimeError, "load: cannot read /proc/self/status: Invalid argument",
       [] { xg::load("/proc/self/status"); }},
      {"file-too-short", T::InvalidArgument, bad + "shorter than the 8-byte header length",
       [] {
         write_bytes("bad.safetensors", "{}");
         xg::load("bad.safetensors");
       }},
      {"file-header-length", T::InvalidArgument,
       bad + "the header claims 100 bytes but the file has 2 after the length",
       [] {
         write_safetensors("bad.safetensors", "{}", "", 100);
         xg::load("bad.safetensors");
       }},
      {"file-header-too-large", T::InvalidArgument,
       bad + "the header is larger than 100000000 bytes, the format's limit",
       [] {
         const std::uint64_t length = 100'000'001;
         write_safetensors("bad.safetensors", "", "", length);
         fs::resize_file("bad.safetensors", 8 + length);  // sparse: takes no disk space
         xg::load("bad.safetensors");
       }},
      {"file-header-not-object", T::InvalidArgument, bad + "the header is not a JSON object",
       [] { load_bad("[]"); }},
      {"file-header-not-json", T::InvalidArgument,
       bad +
           "the header is not valid JSON ([json.exception.parse_error.101] parse error at line 1, "
           "column 2: syntax error while parsing object key - invalid literal; last read: '{x'; "
           "expected string literal)",
       [] { load_bad("{x"); }},
      {"file-duplicate-name", T::InvalidArgument, bad + "the header names 'w' twice",
       [] {
         load_bad(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                  R"("w":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                  std::string(4, '\0'));
       }},
      {"file-metadata-not-object", T::InvalidArgument, bad + "__metadata__ is not an object",
       [] { load_bad(R"({"__metadata__":[]})"); }},
      {"file-metadata-value", T::InvalidArgument, bad + "__metadata__ value 'step' is not a string",
       [] { load_bad(R"({"__metadata__":{"step":3}})"); }},
      {"file-metadata-key-twice", T::InvalidArgument, bad + "__metadata__ names 'step' twice",
       [] { load_bad(R"({"__metadata__":{"step":"1","step":"2"}})"); }},
      {"file-tensor-fields", T::InvalidArgument,
       bad + "tensor 'w' must have exactly dtype, shape and data_offsets",
       [] { load_bad(R"({"w":{"dtype":"F32","shape":[1]}})"); }},
      {"file-tensor-field-twice", T::InvalidArgument, bad + "tensor 'w' has dtype twice",
       [] {
         load_bad(R"({"w":{"dtype":"F64","dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                  std::string(4, '\0'));
       }},
      {"file-dtype-not-string", T::InvalidArgument, bad + "tensor 'w': dtype is not a string",
       [] {
         load_bad(R"({"w":{"dtype":32,"shape":[1],"data_offsets":[0,4]}})", std::string(4, '\0'));
       }},
      {"file-dtype-unsupported", T::InvalidArgument,
       bad + "tensor 'w': dtype F16 is not supported (F32, F64, I64, BOOL)",
       [] {
         load_bad(R"({"w":{"dtype":"F16","shape":[1],"data_offsets":[0,2]}})",
                  std::string(2, '\0'));
       }},
      {"file-shape-not-array", T::InvalidArgument, bad + "tensor 'w': shape is not an array",
       [] {
         load_bad(R"({"w":{"dtype":"F32","shape":1,"data_offsets":[0,4]}})", std::string(4, '\0'));
       }},
      {"file-shape-negative", T::InvalidArgument,
       bad + "tensor 'w': shape holds a non-integer or negative",
       [] {
         load_bad(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})",
                  std::string(4, '\0'));
       }},
      {"file-shape-too-large", T::InvalidArgument, bad + "tensor 'w': shape is too large",
       [] {
         load_bad(R"({"w":{"dtype":"F32","shape":[4611686018427387904],"data_offsets":[0,4]}})",
                  std::string(4, '\0'));
       }},
      {"file-shape-too-many-dims", T::InvalidArgument,
       bad + "tensor 'w': shape has more than 16 dims, xgrad's limit",
       [] {
         load_bad(R"({"w":{"dtype":"F32","shape":[1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1],)"
                  R"("data_offsets":[0,4]}})",
                  std::string(4, '\0'));
       }},
      {"file-offsets-not-integers", T::InvalidArgument,
       bad + "tensor 'w': data_offsets must be two non-negative integers",
       [] {
         load_bad(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[4]}})", std::string(4, '\0'));
       }},
      {"file-offsets-size", T::InvalidArgument,
       bad + "tensor 'w': data_offsets [0, 3] do not hold 1 elements of F32",
       [] {
         load_bad(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0,3]}})",
                  std::string(3, '\0'));
       }},
      {"file-offsets-gap", T::InvalidArgument,
       bad + "tensor 'b' starts at byte 8 where 4 was expected (a gap or an overlap in "
             "data_offsets)",
       [] {
         load_bad(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},)"
                  R"("b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}})",
                  std::string(12, '\0'));
       }},
      {"file-data-size", T::InvalidArgument,
       bad + "the tensors cover 4 bytes of data but the file has 8",
       [w_f32] { load_bad(w_f32, std::string(8, '\0')); }},
      {"file-bool-byte", T::InvalidArgument, bad + "tensor 'm': BOOL element 1 is 2, not 0 or 1",
       [] {
         load_bad(R"({"m":{"dtype":"BOOL","shape":[3],"data_offsets":[0,3]}})",
                  std::string("\x01\x02\x00", 3));
       }},

      // ---- checkpoints: module state ----
      {"module-state-missing", T::InvalidArgument,
       "load_state_dict: 'bias' of Linear is missing from the state",
       [] {
         load_linear_state({{"weight", xg::zeros({3, 2})}});
       }},
      {"module-state-shape", T::InvalidArgument,
       "load_state_dict: 'weight' has shape [2, 2] in the state but [3, 2] in Linear",
       [] {
         load_linear_state({{"bias", xg::zeros({3})}, {"weight", xg::zeros({2, 2})}});
       }},
      {"module-state-dtype", T::InvalidArgument,
       "load_state_dict: 'weight' is Int64 in the state but Float32 in Linear",
       [] {
         load_linear_state({{"bias", xg::zeros({3})}, {"weight", xg::zeros({3, 2}, xg::kInt64)}});
       }},
      {"module-state-extra", T::InvalidArgument,
       "load_state_dict: the state has 'extra', which Linear does not have",
       [] {
         load_linear_state(
             {{"bias", xg::zeros({3})}, {"weight", xg::zeros({3, 2})}, {"extra", xg::zeros({1})}});
       }},
      {"checkpoint-entry", T::InvalidArgument,
       "load: checkpoint entry 'w' is neither model. nor optimizer.",
       [] {
         xg::save(xg::TensorMap{{"w", xg::ones({1})}}, "model.safetensors");
         xg::nn::Linear linear(2, 3);
         xg::optim::SGD opt(linear.parameters(), xg::optim::SGDOptions(0.1));
         xg::load(linear, opt, "model.safetensors");
       }},
  };
}

// ---- docs/errors.md ----

// One entry of the document: a "### <id>" heading, then "- Type: `std::...`", an optional
// "- Message: `<template>`", and the example in a ```text block.
struct DocEntry {
  std::string type;
  std::string message_template;
  std::vector<std::string> examples;
};

// The text between the first pair of backticks in line, or "".
std::string first_code_span(const std::string& line) {
  const auto open = line.find('`');
  const auto close = open == std::string::npos ? open : line.find('`', open + 1);
  return close == std::string::npos ? "" : line.substr(open + 1, close - open - 1);
}

std::map<std::string, DocEntry> read_doc(std::vector<std::string>& problems) {
  std::ifstream in(std::string(XGRAD_SOURCE_DIR) + "/docs/errors.md");
  std::map<std::string, DocEntry> out;
  if (!in) {
    problems.push_back("cannot open docs/errors.md");
    return out;
  }
  std::string line, id;
  bool in_text = false, in_other_fence = false;
  while (std::getline(in, line)) {
    if (in_text || in_other_fence) {
      if (line == "```") {
        in_text = in_other_fence = false;
      } else if (in_text) {
        out[id].examples.push_back(line);
      }
      continue;
    }
    if (line.rfind("```", 0) == 0) {
      in_text = line == "```text" && !id.empty();
      in_other_fence = !in_text;
    } else if (line.rfind("### ", 0) == 0) {
      id = line.substr(4);
      if (out.count(id)) problems.push_back("two entries named " + id);
      out[id];
    } else if (line.rfind("## ", 0) == 0 || line.rfind("# ", 0) == 0) {
      id.clear();  // prose sections hold no entries
    } else if (!id.empty() && line.rfind("- Type: ", 0) == 0) {
      out[id].type = first_code_span(line);
    } else if (!id.empty() && line.rfind("- Message: ", 0) == 0) {
      out[id].message_template = first_code_span(line);
    }
  }
  return out;
}

// A regex for a message template: each <placeholder> stands for one or more characters.
std::regex template_regex(const std::string& message_template) {
  static const std::regex special(R"([.^$|()\[\]{}*+?\\])");
  static const std::regex placeholder("<[^<>]+>");
  std::string pattern;
  auto begin = std::sregex_iterator(message_template.begin(), message_template.end(), placeholder);
  std::size_t last = 0;
  for (auto it = begin; it != std::sregex_iterator(); ++it) {
    const auto pos = static_cast<std::size_t>(it->position());
    pattern +=
        std::regex_replace(message_template.substr(last, pos - last), special, R"(\$&)") + ".+";
    last = pos + static_cast<std::size_t>(it->length());
  }
  pattern += std::regex_replace(message_template.substr(last), special, R"(\$&)");
  return std::regex(pattern);
}

TEST(ErrorMessages, EveryCaseThrowsItsDocumentedTypeAndMessage) {
  const ScratchDir scratch;
  std::set<std::string> ids;
  for (const Case& c : all_cases()) {
    SCOPED_TRACE(c.id);
    EXPECT_TRUE(ids.insert(c.id).second) << "two cases named " << c.id;
    try {
      c.trigger();
      ADD_FAILURE() << "did not throw";
    } catch (const std::exception& e) {
      EXPECT_TRUE(has_type(e, c.type))
          << "expected " << type_name(c.type) << ", got " << typeid(e).name();
      EXPECT_EQ(std::string(e.what()), c.message);
    }
  }
}

TEST(ErrorMessages, DocumentListsExactlyTheTestedMessages) {
  std::vector<std::string> problems;
  const auto doc = read_doc(problems);
  for (const auto& p : problems) ADD_FAILURE() << p;
  ASSERT_FALSE(doc.empty());
  std::set<std::string> tested;
  for (const Case& c : all_cases()) {
    SCOPED_TRACE(c.id);
    tested.insert(c.id);
    const auto it = doc.find(c.id);
    if (it == doc.end()) {
      ADD_FAILURE() << "docs/errors.md has no entry \"### " << c.id << "\"";
      continue;
    }
    const DocEntry& entry = it->second;
    EXPECT_EQ(entry.type, type_name(c.type));
    ASSERT_EQ(entry.examples.size(), 1u) << "an entry shows one example, in a ```text block";
    EXPECT_EQ(entry.examples[0], c.message);
    if (!entry.message_template.empty()) {
      EXPECT_TRUE(std::regex_match(c.message, template_regex(entry.message_template)))
          << "the example does not fit the template " << entry.message_template;
    }
  }
  // The entries of xgrad::distributed are triggered under mpirun by
  // tests/distributed/test_distributed.cpp, which names each one.
  std::ifstream distributed_test(std::string(XGRAD_SOURCE_DIR) +
                                 "/tests/distributed/test_distributed.cpp");
  const std::string distributed_source((std::istreambuf_iterator<char>(distributed_test)),
                                       std::istreambuf_iterator<char>());
  for (const auto& [id, entry] : doc) {
    if (id.rfind("distributed-", 0) == 0) {
      EXPECT_NE(distributed_source.find(id), std::string::npos)
          << "docs/errors.md entry \"" << id << "\" is not tested by test_distributed.cpp";
      EXPECT_EQ(entry.examples.size(), 1u) << id;
      continue;
    }
    EXPECT_TRUE(tested.count(id)) << "docs/errors.md entry \"" << id << "\" has no test case";
  }
}

}  // namespace
