// libFuzzer target for the op API: the bytes are a little program of ops on a pool of tensors,
// with shapes (zero, negative, overflowing and valid ones), dtypes, dims and scalars taken from
// the input, run with grad on or off, each result summed and backpropagated when it can be.
// Views (select, narrow, slice, split/split_with_sizes/chunk/unbind pieces, as_strided with any
// sizes, strides and offset, mT, t, transpose, unsqueeze, expand_as, view, contiguous) join the
// pool, and in-place ops (add_, sub_, mul_, div_, copy_, fill_, zero_) change pool entries
// directly or through chains of views, so later ops and backward see strided, aliased and
// in-place-changed tensors (recorded through CopySlices in grad mode).
// Every op may return or throw one of xgrad's documented exception types (docs/errors.md); any
// other exception, a crash, a sanitizer report or a hang is a finding.
//
// Valid shapes are capped at 2^20 elements (and an op whose result would be larger, such as a
// broadcast of [2^15, 1] with [1, 2^15], is skipped), so that the fuzzer's own memory limit is
// not the finding. Empty shapes come with small dims or with dims of 2^45 and more, whose
// derived results can never be allocated: either way nothing large is ever filled.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <limits>
#include <new>
#include <optional>
#include <stdexcept>
#include <typeinfo>
#include <vector>
#include <xgrad/xgrad.hpp>

namespace {

using xg::Shape;
using xg::Tensor;

constexpr std::int64_t kMaxElements = std::int64_t{1} << 20;
constexpr std::size_t kPool = 6;
constexpr int kMaxOps = 48;

// Reads the input front to back; past its end every read gives 0.
class Input {
 public:
  Input(const std::uint8_t* data, std::size_t size) : data_(data), size_(size) {}
  bool done() const { return pos_ >= size_; }
  std::uint8_t byte() { return pos_ < size_ ? data_[pos_++] : 0; }
  std::int64_t small(int n) { return byte() % n; }  // [0, n)

  // A size: mostly small, sometimes 0, negative, or past any allocation or int64.
  std::int64_t size() {
    static constexpr std::int64_t table[] = {0,
                                             1,
                                             2,
                                             3,
                                             4,
                                             5,
                                             7,
                                             8,
                                             16,
                                             -1,
                                             -2,
                                             std::int64_t{1} << 45,
                                             (std::int64_t{1} << 62) + 1,
                                             std::int64_t{1} << 32,
                                             std::numeric_limits<std::int64_t>::max(),
                                             std::numeric_limits<std::int64_t>::min(),
                                             1000,
                                             33};
    return table[byte() % (sizeof table / sizeof table[0])];
  }
  Shape shape() {
    const int n = byte() % 23 == 0 ? 17 : static_cast<int>(small(5));  // sometimes too many dims
    Shape s;
    for (int i = 0; i < n; ++i) s.push_back(size());
    return s;
  }
  std::int64_t dim() { return static_cast<std::int64_t>(byte() % 9) - 4; }  // [-4, 4]
  double scalar() {
    static constexpr double table[] = {0.0,
                                       1.0,
                                       -1.0,
                                       0.5,
                                       2.0,
                                       -3.25,
                                       1e30,
                                       -1e30,
                                       1e300,
                                       std::numeric_limits<double>::infinity(),
                                       -std::numeric_limits<double>::infinity(),
                                       std::numeric_limits<double>::quiet_NaN(),
                                       9.3e18,
                                       7.0};
    return table[byte() % (sizeof table / sizeof table[0])];
  }
  xg::Dtype dtype() {
    static constexpr xg::Dtype table[] = {xg::kFloat32, xg::kFloat64, xg::kInt64, xg::kBool};
    return table[byte() % 4];
  }

 private:
  const std::uint8_t* data_;
  std::size_t size_;
  std::size_t pos_ = 0;
};

// A shape is built only if it is invalid (the op must refuse it), small, or empty with sizes
// so large that nothing derived from it can be allocated.
bool may_build(const Shape& s) {
  long double extent = 1;
  bool empty = false;
  for (auto v : s) {
    if (v < 0) return true;
    empty |= v == 0;
    extent *= static_cast<long double>(std::max<std::int64_t>(v, 1));
  }
  if (extent > 0x1p63L) return true;  // overflows: must be refused
  if (empty) return extent <= kMaxElements || extent >= 0x1p45L;
  return extent <= kMaxElements;
}

// The element count, -1 for a shape with a negative size, INT64_MAX when it is past 2^62.
std::int64_t numel_or_huge(const Shape& s) {
  long double n = 1;
  for (auto v : s) {
    if (v < 0) return -1;
    n *= static_cast<long double>(v);
  }
  return n > 0x1p62L ? std::numeric_limits<std::int64_t>::max() : static_cast<std::int64_t>(n);
}

// Whether a result of this many elements is too large to make here.
bool too_big(long double elements) { return elements > 4.0L * kMaxElements; }

// Runs one op; documented exceptions end it quietly, anything else is a finding.
void guarded(const std::function<void()>& op) {
  try {
    op();
  } catch (const xg::OutOfMemoryError&) {
  } catch (const std::invalid_argument&) {
  } catch (const std::out_of_range&) {
  } catch (const std::runtime_error&) {
  } catch (const std::logic_error& e) {
    if (typeid(e) != typeid(std::logic_error)) std::abort();  // length_error, domain_error, ...
  }
}

class Program {
 public:
  explicit Program(Input& in) : in_(in) {}

  void run() {
    for (int step = 0; step < kMaxOps && !in_.done(); ++step) {
      const bool grad_on = in_.byte() % 4 != 0;
      std::optional<xg::NoGradGuard> no_grad;
      if (!grad_on) no_grad.emplace();
      guarded([&] { one_op(); });
    }
    // Finally a backward through whatever still needs grad.
    for (auto& t : pool_) {
      guarded([&] {
        if (t.defined() && t.requires_grad() && t.numel() <= kMaxElements) xg::sum(t).backward();
      });
    }
  }

 private:
  Tensor& slot() { return pool_[in_.small(kPool)]; }
  Tensor pick() {
    Tensor& t = slot();
    return t.defined() ? t : xg::ones({2, 3});
  }
  // Results join the pool only if they could have been built directly (see may_build).
  void keep(Tensor t) {
    if (t.defined() && may_build(t.shape())) slot() = std::move(t);
  }

  void make() {
    const Shape s = in_.shape();
    if (!may_build(s)) return;
    const xg::Dtype dtype = in_.dtype();
    const bool requires_grad = xg::is_floating(dtype) && in_.byte() % 2;
    auto options = xg::TensorOptions().dtype(dtype).requires_grad(requires_grad);
    switch (in_.small(8)) {
      case 0:
        keep(xg::zeros(s, options));
        break;
      case 1:
        keep(xg::full(s, in_.scalar(), options));
        break;
      case 2:
        keep(xg::randn(s, options));
        break;
      case 3:
        keep(xg::rand(s, options));
        break;
      case 4:
        keep(xg::randint(-3, 4, s, xg::TensorOptions().dtype(dtype)));
        break;
      case 5: {
        const std::int64_t n = numel_or_huge(s);
        if (n > kMaxElements) return;
        std::vector<double> values(static_cast<std::size_t>(std::max<std::int64_t>(n, 0)));
        for (auto& v : values) v = in_.scalar();
        keep(xg::tensor(values, s, options));
        break;
      }
      case 6: {
        const double start = in_.scalar(), end = in_.scalar(), step = in_.scalar();
        const double count = std::ceil((end - start) / step);
        if (count > kMaxElements && count < 0x1p45) return;  // see may_build
        keep(xg::arange(start, end, step, xg::TensorOptions().dtype(dtype)));
        break;
      }
      default: {
        const std::int64_t steps = in_.size();
        if (!may_build({steps})) return;
        keep(xg::linspace(in_.scalar(), in_.scalar(), steps, xg::TensorOptions().dtype(dtype)));
        break;
      }
    }
  }

  void binary() {
    const Tensor a = pick(), b = pick();
    Shape out;
    try {
      out = xg::broadcast_shapes(a.shape(), b.shape(), "fuzz");
      if (too_big(static_cast<long double>(numel_or_huge(out)))) return;
    } catch (const std::invalid_argument&) {
      // The op must refuse the shapes too.
    }
    switch (in_.small(12)) {
      case 9:
        keep(xg::logical_and(a, b));
        break;
      case 10:
        keep(xg::masked_fill(a, xg::gt(b, 0.0), in_.scalar()));
        break;
      case 11:
        keep(xg::masked_fill(a, xg::ne(b, 0.0), xg::sum(b)));
        break;
      case 0:
        keep(a + b);
        break;
      case 1:
        keep(a - b);
        break;
      case 2:
        keep(a * b);
        break;
      case 3:
        keep(a / b);
        break;
      case 4:
        keep(xg::pow(a, b));
        break;
      case 5:
        keep(xg::maximum(a, b));
        break;
      case 6:
        keep(xg::lt(a, b));
        break;
      case 7:
        keep(xg::where(xg::gt(a, 0.0), a, b));
        break;
      default: {
        Tensor c = pick();
        c.add_(b);  // in place, broadcast to c
        break;
      }
    }
  }

  void with_scalar() {
    const Tensor a = pick();
    const double s = in_.scalar();
    switch (in_.small(10)) {
      case 8:
        keep(xg::where(xg::isnan(a), a, s));
        break;
      case 9: {
        Tensor c = pick();
        c.masked_fill_(xg::lt(a, s), in_.scalar());
        break;
      }
      case 0:
        keep(a + s);
        break;
      case 1:
        keep(s * a);
        break;
      case 2:
        keep(a / s);
        break;
      case 3:
        keep(xg::pow(a, s));
        break;
      case 4:
        keep(xg::clamp(a, s, in_.scalar()));
        break;
      case 5: {
        Tensor c = pick();
        c.fill_(s);
        break;
      }
      case 6:
        keep(xg::nn::functional::dropout(a, s, true));
        break;
      default:
        keep(xg::eq(a, s));
        break;
    }
  }

  void unary() {
    const Tensor a = pick();
    using F = Tensor (*)(const Tensor&);
#define XG_FUZZ_UNARY(E, name, ...) xg::name,
    static constexpr F table[] = {XG_UNARY_OPS(XG_FUZZ_UNARY)};  // every registry op
#undef XG_FUZZ_UNARY
    switch (in_.small(6)) {
      case 0:
        keep(xg::logical_not(a));
        break;
      case 1:
        keep(in_.byte() % 2 ? xg::any(a, in_.dim(), in_.byte() % 2) : xg::all(a));
        break;
      case 2:
        keep(in_.byte() % 2 ? xg::tril(a, in_.dim()) : xg::triu(a, in_.dim()));
        break;
      default:
        keep(table[in_.small(sizeof table / sizeof table[0])](a));
        break;
    }
  }

  void reduce() {
    const Tensor a = pick();
    const Shape dims = in_.byte() % 2 ? Shape{in_.dim()} : Shape{in_.dim(), in_.dim()};
    const bool keepdim = in_.byte() % 2;
    switch (in_.small(11)) {
      case 0:
        keep(xg::sum(a));
        break;
      case 1:
        keep(xg::sum(a, dims, keepdim));
        break;
      case 2:
        keep(xg::mean(a, dims, keepdim));
        break;
      case 3:
        keep(xg::amax(a, dims, keepdim));
        break;
      case 4:
        keep(xg::amin(a, dims, keepdim));
        break;
      case 5:
        keep(xg::argmax(a, in_.byte() % 2 ? std::optional<std::int64_t>(in_.dim()) : std::nullopt,
                        keepdim));
        break;
      case 6:
        keep(xg::logsumexp(a, dims, keepdim));
        break;
      case 7:
        keep(xg::softmax(a, in_.dim()));
        break;
      case 8:
        keep(xg::log_softmax(a, in_.dim()));
        break;
      case 9:
        keep(xg::max(a));
        break;
      default:
        (void)a.item<std::int64_t>();
        break;
    }
  }

  void reshape() {
    const Tensor a = pick();
    switch (in_.small(11)) {
      case 0: {
        const Shape s = in_.shape();
        keep(in_.byte() % 2 ? xg::reshape(a, s) : a.view(s));
        break;
      }
      case 1: {
        const Shape s = in_.shape();
        if (!may_build(s) || too_big(static_cast<long double>(numel_or_huge(s)))) return;
        keep(xg::expand(a, s));
        break;
      }
      case 2:
        keep(xg::transpose(a, in_.dim(), in_.dim()));
        break;
      case 3:
        keep(xg::permute(a, in_.shape()));
        break;
      case 4:
        keep(xg::flatten(a, in_.dim(), in_.dim()));
        break;
      case 5:
        keep(xg::unsqueeze(a, in_.dim()));
        break;
      case 6:
        keep(xg::squeeze(a, in_.dim()));
        break;
      case 7:
        keep(xg::narrow(a, in_.dim(), in_.size(), in_.size()));
        break;
      case 8: {
        std::vector<Tensor> parts(1 + in_.small(3), a);
        parts.back() = pick();
        keep(in_.byte() % 2 ? xg::cat(parts, in_.dim()) : xg::stack(parts, in_.dim()));
        break;
      }
      case 9: {
        const Shape s = in_.shape();
        if (numel_or_huge(s) > 64 || !may_build(s)) return;
        keep(xg::index_select(a, in_.dim(), xg::randint(-1, 5, s)));
        break;
      }
      default:
        keep(a.to(in_.dtype()));
        break;
    }
  }

  void product() {
    const Tensor a = pick(), b = pick();
    const long double bound = static_cast<long double>(a.numel() + 1) * (b.numel() + 1);
    if (bound > 0x1p26L) return;  // the result can have up to a.numel() * b.numel() elements
    switch (in_.small(3)) {
      case 0:
        keep(xg::matmul(a, b));
        break;
      case 1:
        keep(xg::mm(a, b));
        break;
      default:
        keep(xg::linear(a, b));
        break;
    }
  }

  // The size of dim d of t, or -1 when t has no such dim (the op must refuse it then).
  static std::int64_t size_at(const Tensor& t, std::int64_t d) {
    const std::int64_t n = t.dim();
    if (n == 0 || d < -n || d >= n) return -1;
    return t.size(d);
  }
  // Whether an op that makes one view per piece may run: a dim of 2^45 (an empty tensor's)
  // would make 2^45 views, which is slow, not wrong.
  static bool few_pieces(long double pieces) { return pieces <= 4096; }

  // One of the pieces (there is at least one).
  Tensor piece(const std::vector<Tensor>& parts) {
    return parts[static_cast<std::size_t>(in_.byte()) % parts.size()];
  }

  std::optional<std::int64_t> maybe_index() {
    if (in_.byte() % 4 == 0) return std::nullopt;
    return in_.byte() % 2 ? in_.size() : static_cast<std::int64_t>(in_.byte() % 9) - 4;
  }

  // One view of a (or a piece of a split of it), as the input says; throws what the op throws.
  Tensor view_of(const Tensor& a) {
    const std::int64_t d = in_.dim();
    switch (in_.small(14)) {
      case 0:
        return a.select(
            d, in_.byte() % 2 ? in_.size() : static_cast<std::int64_t>(in_.byte() % 7) - 3);
      case 1:
        return a.narrow(d, static_cast<std::int64_t>(in_.byte() % 7) - 3, in_.small(4));
      case 2: {
        const auto start = maybe_index(), end = maybe_index();
        std::int64_t step = in_.byte() % 3 ? 1 + in_.small(3) : in_.size();
        return xg::slice(a, d, start, end, step);
      }
      case 3: {
        const std::int64_t split_size = in_.size(), size = size_at(a, d);
        if (size > 0 && split_size > 0 &&
            !few_pieces(static_cast<long double>(size) / split_size)) {
          return a;
        }
        const auto parts = a.split(split_size, d);
        return parts.empty() ? a : piece(parts);
      }
      case 4: {
        const auto parts = a.split_with_sizes(in_.shape(), d);
        if (parts.empty()) return a;
        return parts.empty() ? a : piece(parts);
      }
      case 5: {
        const std::int64_t chunks = in_.size(), size = size_at(a, d);
        // An empty dim gives `chunks` empty pieces (as PyTorch): keep that count small (up to
        // 2^24 are made, which is slow, not wrong; more are refused).
        if (size == 0 && chunks > 4096) return a;
        if (size > 0 && chunks > 0 && !few_pieces(std::min<long double>(chunks, size))) return a;
        const auto parts = a.chunk(chunks, d);
        return parts.empty() ? a : piece(parts);
      }
      case 6: {
        const std::int64_t size = size_at(a, d);
        if (!few_pieces(static_cast<long double>(size))) return a;
        const auto parts = a.unbind(d);
        if (parts.empty()) return a;
        return parts.empty() ? a : piece(parts);
      }
      case 7: {
        const Shape sizes = in_.shape();
        Shape strides;
        if (in_.byte() % 5 == 0) {
          strides = in_.shape();  // any length: a mismatch must be refused
        } else {
          for (std::size_t i = 0; i < sizes.size(); ++i) {
            strides.push_back(in_.byte() % 3 ? in_.small(7) : in_.size());
          }
        }
        if (too_big(static_cast<long double>(numel_or_huge(sizes)))) return a;
        const auto offset = maybe_index();
        return offset ? a.as_strided(sizes, strides, *offset) : a.as_strided(sizes, strides);
      }
      case 8:
        return a.mT();
      case 9:
        return a.t();
      case 10:
        return a.transpose(in_.dim(), in_.dim());
      case 11:
        return a.unsqueeze(d);
      case 12: {
        const Tensor other = pick();
        if (too_big(static_cast<long double>(other.numel()))) return a;
        return a.expand_as(other);
      }
      default:
        return a.view(in_.shape());
    }
  }

  // The view ops, and what a view tells about itself.
  void views() {
    const Tensor a = pick();
    switch (in_.small(4)) {
      case 0: {
        (void)a.stride();
        (void)a.stride(in_.dim());
        break;
      }
      case 1:
        (void)a.storage_offset();
        (void)a.is_contiguous();
        (void)a.is_alias_of(pick());
        break;
      case 2:
        keep(a.contiguous());
        break;
      default:
        keep(view_of(a));
        break;
    }
  }

  // An in-place op on a pool entry or on a chain of views of one: recorded when it needs to
  // be (an op's result and its views), refused on leaves that require grad and their views,
  // on views whose elements share memory, and on shapes and dtypes that do not fit.
  void inplace() {
    Tensor t = pick();
    for (int n = static_cast<int>(in_.small(4)); n > 0; --n) t = view_of(t);
    if (too_big(static_cast<long double>(t.numel()))) return;
    const Tensor other = pick();
    if (too_big(static_cast<long double>(other.numel()))) return;
    const double s = in_.scalar();
    switch (in_.small(11)) {
      // (An integral tensor refuses a floating alpha: integral-alpha.)
      case 0:
        t.add_(other, in_.byte() % 2 ? xg::Scalar(s) : xg::Scalar(in_.small(5) - 2));
        break;
      case 1:
        t.sub_(other, in_.byte() % 2 ? xg::Scalar(s) : xg::Scalar(2));
        break;
      case 2:
        t.mul_(other);
        break;
      case 3:
        t.div_(other);
        break;
      case 4:
        t.copy_(other);
        break;
      case 5:
        t.fill_(s);
        break;
      case 6:
        t.zero_();
        break;
      case 7:
        t.mul_(t);
        break;
      case 8:
        t.add_(s);
        break;
      case 9:
        t /= s;
        break;
      default:
        t.copy_(view_of(other));
        break;
    }
    if (in_.byte() % 3 == 0) keep(t);
    if (in_.byte() % 4 == 0 && t.requires_grad()) xg::sum(t).backward();
  }

  void one_op() {
    switch (in_.small(10)) {
      case 0:
        make();
        break;
      case 1:
        binary();
        break;
      case 2:
        with_scalar();
        break;
      case 3:
        unary();
        break;
      case 4:
        reduce();
        break;
      case 5:
        reshape();
        break;
      case 6:
        product();
        break;
      case 7:
        views();
        break;
      case 8:
        inplace();
        break;
      default: {  // backward of one result
        const Tensor t = pick();
        if (t.requires_grad()) xg::sum(t).backward();
        break;
      }
    }
  }

  Input& in_;
  Tensor pool_[kPool];
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  xg::manual_seed(0);
  Input in(data, size);
  Program(in).run();
  return 0;
}
