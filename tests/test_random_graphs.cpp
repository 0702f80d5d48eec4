// Randomized, seeded graphs over every differentiable op (issue 8, requirement 2).
//
// Each graph is built from its own seed: a few leaves whose shapes broadcast together (ranks 0
// to 3, sizes 1 to 3 and now and then 4 or 5, size-1 dims and 0-d tensors included), then 4 to
// 12 steps, each an op applied to entries picked from the pool of everything built so far (so
// intermediate results are reused; matmul, linear and the losses may add weight and target
// leaves), and an output that also reads every entry nothing else read. The builder runs every
// step on the graph's own values as it goes, so it can keep each op in its domain: positive
// inputs for log, sqrt, rsqrt and fractional powers, divisors away from 0, relu/abs/sign/clamp/l1
// inputs away from their kinks, maximum/minimum operands away from ties, amax/amin/max/min/
// argmax groups and where conditions with a clear margin. Values past 4 are soft-bounded.
// Shape steps include the view ops (select, slice with a step, split/split_with_sizes/chunk/
// unbind pieces, as_strided with non-overlapping strides, mT, expand_as, contiguous), so later
// steps read strided views. In-place steps (issue 14) change a tensor computed from an entry
// (a clone, a multiple, or a zeros buffer that needs no grad into which part of the entry is
// copied; never a pool entry itself) one to three times, directly or through a chain of views:
// add_, sub_, mul_, div_ (by a positive entry or a scalar), copy_, fill_, zero_, with operands
// that broadcast, 0-d means, scalars, the view itself or another view of the same tensor. The
// step gives the changed tensor, a view of it, or a view made before the changes.
//
// Every graph is then
//   1. gradchecked in Float64 (PyTorch's gradcheck tolerances);
//   2. run again in Float32 from the same values: the output and the gradients (a fixed random
//      vector-Jacobian product, through .backward()) must be Float32, shaped like their
//      tensors, and match the Float64 ones to Float32 tolerance;
//   3. run with one leaf in Float32 and the rest in Float64 (type promotion): each gradient
//      comes back in its own leaf's dtype and matches. When the Float32 leaf reaches matmul,
//      mm or linear beside a Float64 operand, the run must throw std::invalid_argument instead
//      (those ops refuse mixed dtypes, as in PyTorch);
//   4. in one graph of three, calls that do not fit (shapes that do not broadcast, matmul inner
//      dims that differ, dims and indices out of range, Int64 where a float is needed, in-place
//      changes of leaves that require grad and of views of them, writes into expanded views,
//      view ops with arguments that do not fit, ...) are made on the recorded graph's tensors: each
//      must throw its documented type (std::invalid_argument for shapes, dtypes and values,
//      std::out_of_range for dims and indices, std::runtime_error for autograd misuse) and leave
//      its operands as they were (values, version, shape, dtype, requires_grad, grad_fn). Random
//      pairings of entries in ops whose shapes must fit are checked against a model of the op:
//      the predicted shape, or std::invalid_argument. A backward through the graph afterwards
//      must give the same gradients as before.
//
// A failure prints the seed and the graph. XGRAD_RANDOM_GRAPHS_FIRST=<seed>
// XGRAD_RANDOM_GRAPHS=1 reruns just that graph; XGRAD_RANDOM_GRAPHS=<n> changes the count and
// XGRAD_RANDOM_GRAPHS_VERBOSE=1 prints every graph before checking it (for a crash).
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <vector>
#include <xgrad/xgrad.hpp>

#include "unary_cases.hpp"

namespace {

using xg::Dtype;
using xg::Shape;
using xg::Tensor;
namespace F = xg::nn::functional;
using Pool = std::vector<Tensor>;
using StepFn = std::function<Tensor(const Pool&)>;
using Unary = std::function<Tensor(const Tensor&)>;

constexpr int kDefaultGraphs = 3000;
constexpr double kMargin = 0.02;        // distance kept from kinks, ties and domain edges
constexpr double kBound = 4.0;          // entries larger than this are soft-bounded
constexpr std::int64_t kMaxNumel = 36;  // no entry grows past this
constexpr std::int64_t kMaxRank = 4;
constexpr std::int64_t kMaxLeafElements = 60;  // fresh weight/target leaves stop here

std::vector<double> values_of(const Tensor& t) {
  const auto a = t.detach().to_xarray<double>();
  return std::vector<double>(a.begin(), a.end());
}

std::string str(const Shape& s) { return xg::shape_to_string(s); }

std::string num(double v) {
  std::ostringstream os;
  os << v;
  return os.str();
}

std::int64_t numel_of(const Shape& s) {
  std::int64_t n = 1;
  for (auto d : s) n *= d;
  return n;
}

std::optional<Shape> broadcast(Shape a, Shape b) {
  if (a.size() < b.size()) std::swap(a, b);
  const std::size_t off = a.size() - b.size();
  for (std::size_t i = 0; i < b.size(); ++i) {
    std::int64_t& x = a[off + i];
    if (x == b[i] || b[i] == 1) continue;
    if (x != 1) return std::nullopt;
    x = b[i];
  }
  return a;
}

// torch.matmul's result shape, or nullopt when the shapes do not multiply.
std::optional<Shape> matmul_shape(const Shape& a, const Shape& b) {
  if (a.empty() || b.empty()) return std::nullopt;
  const std::int64_t ka = a.back();
  const std::int64_t kb = b.size() == 1 ? b[0] : b[b.size() - 2];
  if (ka != kb) return std::nullopt;
  const Shape a_batch = a.size() > 2 ? Shape(a.begin(), a.end() - 2) : Shape{};
  const Shape b_batch = b.size() > 2 ? Shape(b.begin(), b.end() - 2) : Shape{};
  auto batch = broadcast(a_batch, b_batch);
  if (!batch) return std::nullopt;
  Shape out = *batch;
  if (a.size() > 1) out.push_back(a[a.size() - 2]);
  if (b.size() > 1) out.push_back(b.back());
  return out;
}

// The smallest distance, over the groups a reduction over `dims` forms (every dim when dims is
// empty), between each group's largest (or smallest) element and its runner-up; infinity when
// every group has one element.
double extreme_gap(const Tensor& t, const Shape& dims, bool is_max) {
  const Shape shape = t.shape();
  const std::vector<double> v = values_of(t);
  const auto r = static_cast<std::int64_t>(shape.size());
  std::vector<bool> reduced(shape.size(), dims.empty());
  for (auto d : dims) {
    if (r > 0) reduced[static_cast<std::size_t>((d % r + r) % r)] = true;
  }
  std::map<std::int64_t, std::vector<double>> groups;
  for (std::int64_t i = 0; i < static_cast<std::int64_t>(v.size()); ++i) {
    std::int64_t rest = i, key = 0, stride = 1;
    for (std::int64_t k = r - 1; k >= 0; --k) {
      const std::int64_t size = shape[static_cast<std::size_t>(k)];
      const std::int64_t idx = rest % size;
      rest /= size;
      if (!reduced[static_cast<std::size_t>(k)]) {
        key += idx * stride;
        stride *= size;
      }
    }
    groups[key].push_back(v[static_cast<std::size_t>(i)]);
  }
  double gap = std::numeric_limits<double>::infinity();
  for (auto& [key, g] : groups) {
    if (g.size() < 2) continue;
    std::sort(g.begin(), g.end());
    gap = std::min(gap, is_max ? g[g.size() - 1] - g[g.size() - 2] : g[1] - g[0]);
  }
  return gap;
}

Tensor soft_bound(const Tensor& t) { return t * xg::rsqrt(t * t / 16 + 1); }

// A constant of the given values, in the dtype of `like` (so constants never promote).
Tensor konst(const std::vector<double>& v, const Shape& shape, const Tensor& like) {
  return xg::tensor(v, shape, like.dtype());
}

// ---- the program -------------------------------------------------------------------------------

struct Entry {
  bool leaf = false;
  std::size_t leaf_index = 0;
  StepFn fn;
  std::vector<std::size_t> reads;       // pool entries fn reads differentiably
  std::vector<std::size_t> dtype_from;  // those whose dtypes decide the result's (promotion)
  std::vector<std::size_t> same_dtype;  // those that must share a dtype (matmul, mm, linear)
  std::string text;
};

struct Leaf {
  Shape shape;
  std::vector<double> values;
  bool requires_grad = true;
};

struct Program {
  std::uint64_t seed = 0;
  std::vector<Leaf> leaves;
  std::vector<Entry> entries;
  std::vector<std::string> ops;     // every op used, for the coverage count
  std::vector<double> out_weights;  // the upstream gradient of the vector-Jacobian checks
  Shape out_shape;

  // The leaves as tensors of `dtype`, but leaf `f32_leaf` (if given) in Float32.
  std::vector<Tensor> make_leaves(Dtype dtype, std::optional<std::size_t> f32_leaf = {}) const {
    std::vector<Tensor> out;
    for (std::size_t i = 0; i < leaves.size(); ++i) {
      const Dtype d = f32_leaf && *f32_leaf == i ? xg::kFloat32 : dtype;
      Tensor t = xg::tensor(leaves[i].values, leaves[i].shape, d);
      if (leaves[i].requires_grad) t.requires_grad_();
      out.push_back(t);
    }
    return out;
  }

  Pool run(const std::vector<Tensor>& leaf_tensors) const {
    Pool pool;
    pool.reserve(entries.size());
    for (const Entry& e : entries) {
      pool.push_back(e.leaf ? leaf_tensors[e.leaf_index] : e.fn(pool));
    }
    return pool;
  }

  std::vector<std::size_t> grad_leaves() const {
    std::vector<std::size_t> out;
    for (std::size_t i = 0; i < leaves.size(); ++i) {
      if (leaves[i].requires_grad) out.push_back(i);
    }
    return out;
  }

  std::string describe() const {
    std::ostringstream os;
    os << "graph seed " << seed << " (rerun alone: XGRAD_RANDOM_GRAPHS_FIRST=" << seed
       << " XGRAD_RANDOM_GRAPHS=1):\n";
    for (const Entry& e : entries) os << "    " << e.text << "\n";
    return os.str();
  }
};

// ---- ops that must fail ------------------------------------------------------------------------

enum class Err { Invalid, OutOfRange, Runtime };

const char* err_name(Err e) {
  switch (e) {
    case Err::Invalid:
      return "std::invalid_argument";
    case Err::OutOfRange:
      return "std::out_of_range";
    default:
      return "std::runtime_error";
  }
}

// A call that must throw `expected`, and the tensors it must leave as they were.
// (Or, when `fits` is set, a call that must succeed with a result of that shape: random
// pairings of entries are checked against a model of which shapes fit.)
struct BadCall {
  BadCall() = default;
  BadCall(std::string t, Err e, std::vector<Tensor> ops, std::function<void()> f)
      : text(std::move(t)), expected(e), operands(std::move(ops)), call(std::move(f)) {}
  std::string text;
  Err expected = Err::Invalid;
  std::vector<Tensor> operands;
  std::function<void()> call;
  std::optional<Shape> fits;
  std::function<Tensor()> fitting_call;
};

using Mismatch = std::function<BadCall(const Pool&)>;

// ---- the builder -------------------------------------------------------------------------------

// A transformation that moves an operand into an op's domain; empty fn: the operand itself.
struct Prep {
  std::string pattern = "%";  // '%' stands for the operand
  Unary fn;
  Tensor apply(const Tensor& x) const { return fn ? fn(x) : x; }
  std::string text(const std::string& operand) const {
    std::string s = pattern;
    const auto at = s.find('%');
    return at == std::string::npos ? s : s.replace(at, 1, operand);
  }
};

enum class Dom { Any, Positive, NonZero, Kink0, GtMinus1 };

class Builder {
 public:
  explicit Builder(std::uint64_t seed) : rng_(seed * 0x9E3779B97F4A7C15ULL + 0x5EEDULL) {
    prog_.seed = seed;
  }

  Program build() {
    const std::int64_t rank = static_cast<std::int64_t>(uniform(4));
    Shape base;
    // sizes 1 to 3, now and then 4 or 5 (odd tails for the vectorized kernels)
    for (std::int64_t i = 0; i < rank; ++i) base.push_back(chance(0.1) ? range(4, 5) : range(1, 3));
    const std::size_t n_leaves = 1 + uniform(3);
    for (std::size_t i = 0; i < n_leaves; ++i) {
      const std::size_t keep = uniform(base.size() + 1);
      Shape s(base.end() - static_cast<std::ptrdiff_t>(keep), base.end());
      for (auto& d : s) {
        if (chance(0.3)) d = 1;
      }
      add_leaf(s, i == 0 || chance(0.85));
    }
    const std::size_t steps = 4 + uniform(9);
    std::size_t made = 0;
    for (std::size_t tries = 0; made < steps && tries < 80 && !failed_; ++tries) {
      if (add_random_step()) ++made;
    }
    add_output();
    return prog_;
  }

  bool failed() const { return failed_; }

  // `count` ops that do not fit, on entries of the graph just built.
  std::vector<Mismatch> mismatches(std::size_t count) {
    std::vector<Mismatch> out;
    for (std::size_t i = 0; i < count; ++i) out.push_back(random_mismatch());
    return out;
  }

 private:
  // ---- randomness ----
  std::size_t uniform(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_);
  }
  std::int64_t range(std::int64_t lo, std::int64_t hi) {  // inclusive
    return std::uniform_int_distribution<std::int64_t>(lo, hi)(rng_);
  }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }
  double normal() { return std::normal_distribution<double>(0, 1)(rng_); }
  template <class T>
  const T& one_of(const std::vector<T>& v) {
    return v[uniform(v.size())];
  }
  std::vector<double> normals(std::int64_t n, double scale = 1.0) {
    std::vector<double> v;
    for (std::int64_t i = 0; i < n; ++i) v.push_back(scale * normal());
    return v;
  }

  // ---- the pool ----
  const Tensor& at(std::size_t i) const { return pool_[i]; }
  Shape shape(std::size_t i) const { return pool_[i].shape(); }
  std::int64_t rank(std::size_t i) const { return pool_[i].dim(); }
  static std::string ref(std::size_t i) {
    std::string s = "#";
    s += std::to_string(i);
    return s;
  }

  std::int64_t leaf_elements() const {
    std::int64_t n = 0;
    for (const Leaf& l : prog_.leaves) n += numel_of(l.shape);
    return n;
  }

  std::size_t add_leaf(const Shape& s, bool requires_grad) {
    Leaf leaf{s, normals(numel_of(s)), requires_grad};
    Entry e;
    e.leaf = true;
    e.leaf_index = prog_.leaves.size();
    e.text = ref(pool_.size()) + " = leaf " + str(s) + (requires_grad ? "" : " (no grad)");
    Tensor t = xg::tensor(leaf.values, s, xg::kFloat64);
    prog_.leaves.push_back(std::move(leaf));
    prog_.entries.push_back(std::move(e));
    pool_.push_back(t);
    return pool_.size() - 1;
  }

  // A fresh leaf for a weight or target, or nullopt when the graph has enough leaf elements.
  std::optional<std::size_t> fresh_leaf(const Shape& s) {
    if (leaf_elements() + numel_of(s) > kMaxLeafElements) return std::nullopt;
    return add_leaf(s, chance(0.8));
  }

  // An operand: one of the two newest entries half the time (chains), else any (reuse).
  std::size_t pick() {
    if (pool_.size() > 1 && chance(0.5)) return pool_.size() - 1 - uniform(2);
    return uniform(pool_.size());
  }

  // An entry satisfying `ok`, preferring newer ones; nullopt if none.
  std::optional<std::size_t> pick_where(const std::function<bool(std::size_t)>& ok) {
    std::vector<std::size_t> c;
    for (std::size_t i = 0; i < pool_.size(); ++i) {
      if (ok(i)) c.push_back(i);
    }
    if (c.empty()) return std::nullopt;
    if (c.size() > 1 && chance(0.4)) return c.back();
    return one_of(c);
  }

  static Tensor eval(const Unary& f, const Tensor& x) {
    xg::NoGradGuard no_grad;
    return f(x);
  }

  // Adds a step computing `fn`; runs it on the pool. False (nothing added) when the result is
  // too large; a failure when a step meant to be valid throws or gives non-finite values.
  bool push(const std::string& op, const std::string& text, std::vector<std::size_t> reads,
            StepFn fn, std::vector<std::size_t> dtype_from = {},
            std::vector<std::size_t> same_dtype = {}) {
    Tensor r;
    try {
      xg::NoGradGuard no_grad;
      r = fn(pool_);
    } catch (const std::exception& e) {
      fail("building step \"" + text + "\" threw " + e.what());
      return false;
    }
    if (r.dtype() != xg::kFloat64) {
      fail("step \"" + text + "\" gave " + std::string(xg::dtype_name(r.dtype())) +
           " from Float64 operands");
      return false;
    }
    if (r.dim() > kMaxRank || r.numel() > kMaxNumel || r.numel() == 0) return false;
    double largest = 0;
    for (double v : values_of(r)) {
      if (!std::isfinite(v)) {
        fail("step \"" + text + "\" gave a non-finite value inside its domain");
        return false;
      }
      largest = std::max(largest, std::abs(v));
    }
    std::string line = text;
    if (largest > kBound) {
      fn = [g = std::move(fn)](const Pool& p) { return soft_bound(g(p)); };
      line = "soft_bound(" + line + ")";
      xg::NoGradGuard no_grad;
      r = fn(pool_);
    }
    Entry e;
    e.fn = std::move(fn);
    e.reads = reads;
    e.dtype_from = dtype_from.empty() ? reads : dtype_from;
    e.same_dtype = std::move(same_dtype);
    e.text = ref(pool_.size()) + " = " + line + " -> " + str(r.shape());
    prog_.entries.push_back(std::move(e));
    if (op != "output") prog_.ops.push_back(op);
    pool_.push_back(r);
    return true;
  }

  void fail(const std::string& why) {
    failed_ = true;
    std::ostringstream values;
    for (std::size_t i = 0; i < pool_.size(); ++i) {
      values << "    " << ref(i) << " =";
      for (double v : values_of(pool_[i])) values << " " << v;
      values << "\n";
    }
    ADD_FAILURE() << why << "\n" << prog_.describe() << "  values:\n" << values.str();
  }

  // ---- domains ----

  // A point at least `margin` from every value: 0 when it is, else a random one between two
  // values or beyond them.
  double safe_point(std::vector<double> v, double margin, bool prefer_zero = true) {
    auto ok = [&](double c) {
      for (double x : v) {
        if (std::abs(x - c) < margin) return false;
      }
      return true;
    };
    if (prefer_zero && ok(0.0)) return 0.0;
    std::sort(v.begin(), v.end());
    std::vector<double> c = {v.front() - 0.5, v.back() + 0.5};
    for (std::size_t i = 1; i < v.size(); ++i) {
      if (v[i] - v[i - 1] >= 2 * margin + 1e-9) c.push_back((v[i] + v[i - 1]) / 2);
    }
    return one_of(c);
  }

  Prep shift(double c) {
    if (c == 0) return {};
    return {"(% - " + num(c) + ")", [c](const Tensor& x) { return x - c; }};
  }

  // Moves entry a into `dom`.
  Prep prep(std::size_t a, Dom dom) {
    const std::vector<double> v = values_of(at(a));
    switch (dom) {
      case Dom::Any:
        return {};
      case Dom::NonZero:
        return shift(safe_point(v, 0.2));
      case Dom::Kink0:
        return shift(safe_point(v, kMargin));
      case Dom::GtMinus1: {
        if (*std::min_element(v.begin(), v.end()) >= -0.9) return {};
        Prep p = positive(a);
        return {p.text("%") + " - 0.5", [f = p.fn](const Tensor& x) { return f(x) - 0.5; }};
      }
      default:
        return positive(a);
    }
  }

  // Entry a itself when every value is at least 0.1, else a positive function of it.
  Prep positive(std::size_t a) {
    const Tensor& x = at(a);
    const std::vector<double> v = values_of(x);
    if (*std::min_element(v.begin(), v.end()) >= 0.1) return {};
    static const std::vector<Prep> kPositive = {
        {"exp(%)", [](const Tensor& t) { return xg::exp(t); }},
        {"sigmoid(%) + 0.2", [](const Tensor& t) { return xg::sigmoid(t) + 0.2; }},
        {"log1p(exp(%)) + 0.1", [](const Tensor& t) { return xg::log1p(xg::exp(t)) + 0.1; }},
        {"%^2 + 0.3", [](const Tensor& t) { return xg::square(t) + 0.3; }},
    };
    for (std::size_t k = uniform(kPositive.size()); k < kPositive.size(); ++k) {
      const auto pv = values_of(eval(kPositive[k].fn, x));
      if (*std::min_element(pv.begin(), pv.end()) >= 0.1) return kPositive[k];
    }
    return kPositive.back();
  }

  // Entry a, or a plus fixed noise, such that the groups of a max/min reduction over dims have
  // a clear winner; nullopt if three tries fail.
  std::optional<Prep> untied(std::size_t a, const Shape& dims, bool is_max) {
    if (extreme_gap(at(a), dims, is_max) >= kMargin) return Prep{};
    const Shape s = shape(a);
    for (int attempt = 0; attempt < 3; ++attempt) {
      const std::vector<double> noise = normals(numel_of(s), 0.5);
      Prep p{"(% + noise)", [noise, s](const Tensor& x) { return x + konst(noise, s, x); }};
      if (extreme_gap(eval(p.fn, at(a)), dims, is_max) >= kMargin) return p;
    }
    return std::nullopt;
  }

  // Random dims for a reduction of a rank-r tensor: a subset, negative half the time, shuffled
  // (empty: every dim).
  Shape random_dims(std::int64_t r) {
    if (r == 0) return one_of(std::vector<Shape>{{}, {0}, {-1}});
    Shape dims;
    for (std::int64_t d = 0; d < r; ++d) {
      if (chance(0.5)) dims.push_back(chance(0.5) ? d - r : d);
    }
    std::shuffle(dims.begin(), dims.end(), rng_);
    return dims;
  }

  std::int64_t random_dim(std::int64_t r) {  // a dim of a rank-r tensor (0-d: 0 or -1)
    const std::int64_t n = std::max<std::int64_t>(r, 1);
    return range(-n, n - 1);
  }

  // ---- steps ----

  bool add_random_step() {
    const std::size_t a = pick();
    const std::size_t kind = uniform(100);
    if (kind < 22) return add_unary(a);
    if (kind < 27) return add_scalar_arith(a);
    if (kind < 44) return add_binary(a);
    if (kind < 55) return add_reduction(a);
    if (kind < 60) return add_softmax(a);
    if (kind < 68) return add_linalg(a);
    if (kind < 87) return add_shape_op(a);
    if (kind < 94) return add_inplace(a);
    return add_loss(a);
  }

  bool add_unary(std::size_t a) {
    struct Op {
      const char* op;
      std::string pattern;
      Unary fn;
      Dom dom;
    };
    static const std::vector<Op> kOps = [] {
      // Every registry op (unary_cases.hpp) as a function and as a method; sign's derivative is
      // 0, so it enters only in products and sums that keep a gradient.
      std::vector<Op> ops;
      for (const auto& u : xg_test::unary_cases()) {
        const Dom dom = u.domain == xg_test::Domain::Positive   ? Dom::Positive
                        : u.domain == xg_test::Domain::GtMinus1 ? Dom::GtMinus1
                        : u.domain == xg_test::Domain::Kink0    ? Dom::Kink0
                        : u.domain == xg_test::Domain::NonZero  ? Dom::NonZero
                                                                : Dom::Any;
        if (std::string_view(u.name) == "sign") continue;
        ops.push_back({u.name, std::string(u.name) + "(%)", u.fn, dom});
        ops.push_back({u.name, "%." + std::string(u.name) + "()",
                       [m = u.method](const Tensor& t) { return (t.*m)(); }, dom});
      }
      ops.insert(
          ops.end(),
          {
              {"neg", "-%", [](const Tensor& t) { return -t; }, Dom::Any},
              {"sign", "sign(%) + %", [](const Tensor& t) { return xg::sign(t) + t; }, Dom::Kink0},
              {"sign", "%.sign() * %", [](const Tensor& t) { return t.sign() * t; }, Dom::Kink0},
              {"clone", "%.clone()", [](const Tensor& t) { return t.clone(); }, Dom::Any},
              {"to", "%.to(Float64).to(dtype)",
               [](const Tensor& t) { return t.to(xg::kFloat64).to(t.dtype()); }, Dom::Any},
              {"pow_scalar", "pow(%, 2)", [](const Tensor& t) { return xg::pow(t, 2); }, Dom::Any},
              {"pow_scalar", "pow(%, 3)", [](const Tensor& t) { return xg::pow(t, 3); }, Dom::Any},
              {"pow_scalar", "%.pow(4)", [](const Tensor& t) { return t.pow(4); }, Dom::Any},
              {"pow_scalar", "pow(%, 0)", [](const Tensor& t) { return xg::pow(t, 0); }, Dom::Any},
              {"pow_scalar", "pow(%, 1.0)", [](const Tensor& t) { return xg::pow(t, 1.0); },
               Dom::Any},
              {"pow_scalar", "pow(%, -1)", [](const Tensor& t) { return xg::pow(t, -1); },
               Dom::NonZero},
              {"pow_scalar", "pow(%, -2)", [](const Tensor& t) { return xg::pow(t, -2); },
               Dom::NonZero},
              {"pow_scalar", "pow(%, 0.5)", [](const Tensor& t) { return xg::pow(t, 0.5); },
               Dom::Positive},
              {"pow_scalar", "%.pow(1.5)", [](const Tensor& t) { return t.pow(1.5); },
               Dom::Positive},
              {"pow_scalar", "pow(%, -1.5)", [](const Tensor& t) { return xg::pow(t, -1.5); },
               Dom::Positive},
              {"pow_scalar", "pow(%, 2.5)", [](const Tensor& t) { return xg::pow(t, 2.5); },
               Dom::Positive},
              {"pow_scalar_base", "pow(2.0, %)", [](const Tensor& t) { return xg::pow(2.0, t); },
               Dom::Any},
              {"pow_scalar_base", "pow(0.7, %)", [](const Tensor& t) { return xg::pow(0.7, t); },
               Dom::Any},
              {"dropout", "dropout(%, 0.5, training=false)",
               [](const Tensor& t) { return F::dropout(t, 0.5, false); }, Dom::Any},
              {"dropout", "dropout(%, 0.0)", [](const Tensor& t) { return F::dropout(t, 0.0); },
               Dom::Any},
          });
      return ops;
    }();
    const std::size_t which = uniform(kOps.size() + 6);
    if (which >= kOps.size() + 2) return add_clamp(a);
    if (which >= kOps.size()) {
      // dropout while training, with the generator reseeded in the step so that every run
      // (gradcheck's perturbed ones, Float32, mixed) draws the same mask
      const auto seed = static_cast<std::uint64_t>(range(1, 1 << 30));
      const double p = one_of(std::vector<double>{0.25, 0.5});
      return push("dropout", "dropout(" + ref(a) + ", " + num(p) + ") seed " + std::to_string(seed),
                  {a}, [a, seed, p](const Pool& pool) {
                    xg::manual_seed(seed);
                    return F::dropout(pool[a], p, true);
                  });
    }
    const Op& op = kOps[which];
    const Prep pr = prep(a, op.dom);
    std::string text = op.pattern;
    const std::string operand = pr.text(ref(a));
    for (auto at = text.find('%'); at != std::string::npos; at = text.find('%', at + 1)) {
      text.replace(at, 1, operand);
      at += operand.size() - 1;
    }
    return push(op.op, text, {a}, [a, pr, f = op.fn](const Pool& p) { return f(pr.apply(p[a])); });
  }

  bool add_clamp(std::size_t a) {
    const std::vector<double> v = values_of(at(a));
    const double p1 = safe_point(v, kMargin, false);
    double p2 = safe_point(v, kMargin, false);
    for (int i = 0; i < 4 && p2 == p1; ++i) p2 = safe_point(v, kMargin, false);
    if (p1 == p2) p2 = p1 + 1;
    const double lo = std::min(p1, p2), hi = std::max(p1, p2);
    const std::string x = ref(a);
    switch (uniform(6)) {
      case 0:
        return push("clamp", "clamp(" + x + ", " + num(lo) + ", " + num(hi) + ")", {a},
                    [a, lo, hi](const Pool& p) { return xg::clamp(p[a], lo, hi); });
      case 1:
        return push("clamp", x + ".clamp(" + num(lo) + ", " + num(hi) + ")", {a},
                    [a, lo, hi](const Pool& p) { return p[a].clamp(lo, hi); });
      case 2:
        return push("clamp", "clamp(" + x + ", " + num(lo) + ", nullopt)", {a},
                    [a, lo](const Pool& p) { return xg::clamp(p[a], lo); });
      case 3:
        return push("clamp", "clamp(" + x + ", nullopt, " + num(hi) + ")", {a},
                    [a, hi](const Pool& p) { return xg::clamp(p[a], std::nullopt, hi); });
      case 4:
        return push("clamp_min", "clamp_min(" + x + ", " + num(lo) + ")", {a},
                    [a, lo](const Pool& p) {
                      return chance_bit(lo) ? xg::clamp_min(p[a], lo) : p[a].clamp_min(lo);
                    });
      default:
        return push("clamp_max", "clamp_max(" + x + ", " + num(hi) + ")", {a},
                    [a, hi](const Pool& p) {
                      return chance_bit(hi) ? xg::clamp_max(p[a], hi) : p[a].clamp_max(hi);
                    });
    }
  }

  // A deterministic coin from a value: picks the free function or the method.
  static bool chance_bit(double v) { return std::fmod(std::abs(v) * 1000, 2.0) < 1.0; }

  bool add_scalar_arith(std::size_t a) {
    const double s = one_of(std::vector<double>{2.5, -0.75, 0.5, 3.0});
    // 3 goes in as an integral Scalar (the dtype must not change; for /, the result is the
    // tensor's floating dtype, not an integer division)
    const bool integral = s == 3.0;
    const std::string x = ref(a), ss = num(s);
    switch (uniform(8)) {
      case 0:
        return push("scalar_arith", x + " + " + ss, {a},
                    [a, s, integral](const Pool& p) { return integral ? p[a] + 3 : p[a] + s; });
      case 1:
        return push("scalar_arith", x + " - " + ss, {a},
                    [a, s](const Pool& p) { return p[a] - s; });
      case 2:
        return push("scalar_arith", x + " * " + ss, {a},
                    [a, s, integral](const Pool& p) { return integral ? p[a] * 3 : p[a] * s; });
      case 3:
        return push("scalar_arith", x + " / " + ss, {a},
                    [a, s, integral](const Pool& p) { return integral ? p[a] / 3 : p[a] / s; });
      case 4:
        return push("scalar_arith", ss + " + " + x, {a},
                    [a, s](const Pool& p) { return s + p[a]; });
      case 5:
        return push("scalar_arith", ss + " - " + x, {a},
                    [a, s, integral](const Pool& p) { return integral ? 3 - p[a] : s - p[a]; });
      case 6:
        return push("scalar_arith", ss + " * " + x, {a},
                    [a, s](const Pool& p) { return s * p[a]; });
      default: {
        const Prep pr = prep(a, Dom::NonZero);
        return push("scalar_arith", ss + " / " + pr.text(x), {a},
                    [a, s, pr](const Pool& p) { return s / pr.apply(p[a]); });
      }
    }
  }

  // An entry whose shape broadcasts with a's to at most kMaxNumel elements (a itself at worst).
  std::size_t partner(std::size_t a) {
    const Shape sa = shape(a);
    auto ok = [&](std::size_t i) {
      const auto b = broadcast(sa, shape(i));
      return b && numel_of(*b) <= kMaxNumel && static_cast<std::int64_t>(b->size()) <= kMaxRank;
    };
    if (chance(0.15)) return a;
    return pick_where(ok).value_or(a);
  }

  bool add_binary(std::size_t a) {
    const std::size_t b = partner(a);
    const std::string x = ref(a), y = ref(b);
    const std::vector<std::size_t> ab = {a, b};
    switch (uniform(11)) {
      case 0:
        switch (uniform(4)) {
          case 0:
            return push("add", x + " + " + y, ab, [a, b](const Pool& p) { return p[a] + p[b]; });
          case 1:
            return push("add", "add(" + x + ", " + y + ")", ab,
                        [a, b](const Pool& p) { return xg::add(p[a], p[b]); });
          case 2:
            return push("add", x + ".add(" + y + ", 0.5)", ab,
                        [a, b](const Pool& p) { return p[a].add(p[b], 0.5); });
          default:
            return push("add", "add(" + x + ", " + y + ", -2)", ab,
                        [a, b](const Pool& p) { return xg::add(p[a], p[b], -2); });
        }
      case 1:
        switch (uniform(4)) {
          case 0:
            return push("sub", x + " - " + y, ab, [a, b](const Pool& p) { return p[a] - p[b]; });
          case 1:
            return push("sub", "sub(" + x + ", " + y + ")", ab,
                        [a, b](const Pool& p) { return xg::sub(p[a], p[b]); });
          case 2:
            return push("sub", x + ".sub(" + y + ", 3)", ab,
                        [a, b](const Pool& p) { return p[a].sub(p[b], 3); });
          default:
            return push("sub", "sub(" + x + ", " + y + ", 0.25)", ab,
                        [a, b](const Pool& p) { return xg::sub(p[a], p[b], 0.25); });
        }
      case 2:
        switch (uniform(3)) {
          case 0:
            return push("mul", x + " * " + y, ab, [a, b](const Pool& p) { return p[a] * p[b]; });
          case 1:
            return push("mul", "mul(" + x + ", " + y + ")", ab,
                        [a, b](const Pool& p) { return xg::mul(p[a], p[b]); });
          default:
            return push("mul", x + ".mul(" + y + ")", ab,
                        [a, b](const Pool& p) { return p[a].mul(p[b]); });
        }
      case 3: {
        const Prep pb = prep(b, Dom::NonZero);
        const std::string yb = pb.text(y);
        switch (uniform(3)) {
          case 0:
            return push("div", x + " / " + yb, ab,
                        [a, b, pb](const Pool& p) { return p[a] / pb.apply(p[b]); });
          case 1:
            return push("div", "div(" + x + ", " + yb + ")", ab,
                        [a, b, pb](const Pool& p) { return xg::div(p[a], pb.apply(p[b])); });
          default:
            return push("div", x + ".div(" + yb + ")", ab,
                        [a, b, pb](const Pool& p) { return p[a].div(pb.apply(p[b])); });
        }
      }
      case 4: {
        // a positive base to a tensor power; the exponent halved to keep the values moderate
        const Prep pa = positive(a);
        const std::string base = pa.text(x);
        if (chance(0.5)) {
          return push("pow_tensor", "pow(" + base + ", " + y + " * 0.5)", ab,
                      [a, b, pa](const Pool& p) { return xg::pow(pa.apply(p[a]), p[b] * 0.5); });
        }
        return push("pow_tensor", base + ".pow(" + y + " * 0.5)", ab,
                    [a, b, pa](const Pool& p) { return pa.apply(p[a]).pow(p[b] * 0.5); });
      }
      case 5: {
        // any base to a constant tensor of small integer powers
        const Shape s = shape(b);
        std::vector<double> e;
        for (std::int64_t i = 0; i < numel_of(s); ++i)
          e.push_back(static_cast<double>(range(1, 3)));
        return push("pow_tensor", "pow(" + x + ", const int tensor " + str(s) + ")", {a},
                    [a, e, s](const Pool& p) { return xg::pow(p[a], konst(e, s, p[a])); });
      }
      case 6:
      case 7: {
        const bool is_max = uniform(2) == 0;
        Tensor diff;
        {
          xg::NoGradGuard no_grad;
          diff = at(a) - at(b);
        }
        const double c = safe_point(values_of(diff), kMargin);  // a - (b + c) away from 0
        const std::string yc = c == 0 ? y : "(" + y + " + " + num(c) + ")";
        const bool method = chance(0.5);
        return push(is_max ? "maximum" : "minimum",
                    std::string(is_max ? "maximum(" : "minimum(") + x + ", " + yc + ")", ab,
                    [a, b, c, is_max, method](const Pool& p) {
                      const Tensor other = c == 0 ? p[b] : p[b] + c;
                      if (method) return is_max ? p[a].maximum(other) : p[a].minimum(other);
                      return is_max ? xg::maximum(p[a], other) : xg::minimum(p[a], other);
                    });
      }
      default:
        return add_where(a, b);
    }
  }

  bool add_where(std::size_t a, std::size_t b) {
    const Shape out = *broadcast(shape(a), shape(b));
    const std::string x = ref(a), y = ref(b);
    // The condition: a comparison of an entry with a threshold kept away from its values, or a
    // constant mask; either broadcasts against a and b.
    auto fits = [&](std::size_t i) {
      const auto s = broadcast(out, shape(i));
      return s && numel_of(*s) <= kMaxNumel && static_cast<std::int64_t>(s->size()) <= kMaxRank;
    };
    const auto c = pick_where(fits);
    if (c && chance(0.7)) {
      const double th = safe_point(values_of(at(*c)), kMargin);
      const std::size_t cmp = uniform(8);
      static const char* kNames[] = {"gt", "ge", "lt", "le", ".gt", ".ge", ".lt", ".le"};
      const std::size_t ci = *c;
      return push("where",
                  "where(" + std::string(kNames[cmp]) + "(" + ref(ci) + ", " + num(th) + "), " + x +
                      ", " + y + ")",
                  {a, b},  // ci only decides the mask: not a differentiable read
                  [a, b, ci, th, cmp](const Pool& p) {
                    const Tensor& t = p[ci];
                    Tensor cond;
                    switch (cmp) {
                      case 0:
                        cond = xg::gt(t, th);
                        break;
                      case 1:
                        cond = xg::ge(t, th);
                        break;
                      case 2:
                        cond = xg::lt(t, th);
                        break;
                      case 3:
                        cond = xg::le(t, th);
                        break;
                      case 4:
                        cond = t.gt(th);
                        break;
                      case 5:
                        cond = t.ge(th);
                        break;
                      case 6:
                        cond = t.lt(th);
                        break;
                      default:
                        cond = t.le(th);
                        break;
                    }
                    return xg::where(cond, p[a], p[b]);
                  });
    }
    // a constant mask of the output's shape (or its last dims), in a random dtype, made with
    // eq/ne from integers in {0, 1, 2}
    const std::size_t keep = uniform(out.size() + 1);
    const Shape ms(out.end() - static_cast<std::ptrdiff_t>(keep), out.end());
    std::vector<double> ints;
    for (std::int64_t i = 0; i < numel_of(ms); ++i)
      ints.push_back(static_cast<double>(range(0, 2)));
    const Dtype md = one_of(std::vector<Dtype>{xg::kFloat32, xg::kFloat64, xg::kInt64});
    const bool use_eq = chance(0.5);
    return push("where",
                std::string("where(") + (use_eq ? "eq" : "ne") + "(const " + str(ms) + ", 1), " +
                    x + ", " + y + ")",
                {a, b}, [a, b, ints, ms, md, use_eq](const Pool& p) {
                  const Tensor m = xg::tensor(ints, ms, md);
                  const Tensor other = xg::ones(ms, md);
                  const Tensor cond = use_eq ? xg::eq(m, other) : m.ne(1);
                  return xg::where(cond, p[a], p[b]);
                });
  }

  bool add_reduction(std::size_t a) {
    const std::int64_t r = rank(a);
    const Shape dims = random_dims(r);
    const bool keep = chance(0.5);
    const std::string x = ref(a), ds = str(dims), ks = keep ? "true" : "false";
    const bool method = chance(0.4);
    switch (uniform(9)) {
      case 0:
        return push("sum", method ? x + ".sum()" : "sum(" + x + ")", {a},
                    [a, method](const Pool& p) { return method ? p[a].sum() : xg::sum(p[a]); });
      case 1:
        return push("sum", "sum(" + x + ", " + ds + ", " + ks + ")", {a},
                    [a, dims, keep, method](const Pool& p) {
                      return method ? p[a].sum(dims, keep) : xg::sum(p[a], dims, keep);
                    });
      case 2:
        return push("mean", method ? x + ".mean()" : "mean(" + x + ")", {a},
                    [a, method](const Pool& p) { return method ? p[a].mean() : xg::mean(p[a]); });
      case 3:
        return push("mean", "mean(" + x + ", " + ds + ", " + ks + ")", {a},
                    [a, dims, keep, method](const Pool& p) {
                      return method ? p[a].mean(dims, keep) : xg::mean(p[a], dims, keep);
                    });
      case 4:
      case 5:
        return push("logsumexp", "logsumexp(" + x + ", " + ds + ", " + ks + ")", {a},
                    [a, dims, keep, method](const Pool& p) {
                      return method ? p[a].logsumexp(dims, keep) : xg::logsumexp(p[a], dims, keep);
                    });
      case 6:
      case 7: {
        const bool is_max = uniform(2) == 0;
        const auto pr = untied(a, dims, is_max);
        if (!pr) return false;
        const std::string op = is_max ? "amax" : "amin";
        return push(op, op + "(" + pr->text(x) + ", " + ds + ", " + ks + ")", {a},
                    [a, dims, keep, is_max, method, pr = *pr](const Pool& p) {
                      const Tensor t = pr.apply(p[a]);
                      if (method) return is_max ? t.amax(dims, keep) : t.amin(dims, keep);
                      return is_max ? xg::amax(t, dims, keep) : xg::amin(t, dims, keep);
                    });
      }
      default: {
        const bool is_max = uniform(2) == 0;
        const auto pr = untied(a, {}, is_max);
        if (!pr) return false;
        const std::string op = is_max ? "max" : "min";
        return push(op, op + "(" + pr->text(x) + ")", {a},
                    [a, is_max, method, pr = *pr](const Pool& p) {
                      const Tensor t = pr.apply(p[a]);
                      if (method) return is_max ? t.max() : t.min();
                      return is_max ? xg::max(t) : xg::min(t);
                    });
      }
    }
  }

  bool add_softmax(std::size_t a) {
    const std::int64_t d = random_dim(rank(a));
    const std::string x = ref(a), ds = std::to_string(d);
    switch (uniform(4)) {
      case 0:
        return push("softmax", "softmax(" + x + ", " + ds + ")", {a},
                    [a, d](const Pool& p) { return xg::softmax(p[a], d); });
      case 1:
        return push("softmax", x + ".softmax(" + ds + ")", {a},
                    [a, d](const Pool& p) { return p[a].softmax(d); });
      case 2:
        return push("log_softmax", "log_softmax(" + x + ", " + ds + ")", {a},
                    [a, d](const Pool& p) { return xg::log_softmax(p[a], d); });
      default:
        return push("log_softmax", x + ".log_softmax(" + ds + ")", {a},
                    [a, d](const Pool& p) { return p[a].log_softmax(d); });
    }
  }

  bool add_linalg(std::size_t a) {
    const std::int64_t r = rank(a);
    switch (uniform(6)) {
      case 0:
      case 1:
        return add_matmul(a);
      case 2:
        return add_mm(a);
      case 3: {
        if (r > 2) return false;
        const bool method = chance(0.5);
        return push("t", method ? ref(a) + ".t()" : "t(" + ref(a) + ")", {a},
                    [a, method](const Pool& p) { return method ? p[a].t() : xg::t(p[a]); });
      }
      default:
        return add_linear(a);
    }
  }

  bool add_matmul(std::size_t a) {
    if (rank(a) == 0) return false;
    const Shape sa = shape(a);
    const std::int64_t k = sa.back();
    auto fits = [&](std::size_t i) {
      const auto s = matmul_shape(sa, shape(i));
      return s && numel_of(*s) <= kMaxNumel && static_cast<std::int64_t>(s->size()) <= kMaxRank;
    };
    std::optional<std::size_t> b;
    if (chance(0.5)) b = pick_where(fits);
    if (!b) {
      Shape s;
      switch (uniform(3)) {
        case 0:
          s = {k};
          break;
        case 1:
          s = {k, range(1, 3)};
          break;
        default:
          s = {sa.size() >= 3 && chance(0.5) ? sa[sa.size() - 3] : range(1, 2), k, range(1, 3)};
          break;
      }
      if (!matmul_shape(sa, s)) return false;
      b = fresh_leaf(s);
      if (!b) return false;
    }
    const std::size_t bi = *b;
    const bool method = chance(0.3);
    return push(
        "matmul",
        method ? ref(a) + ".matmul(" + ref(bi) + ")" : "matmul(" + ref(a) + ", " + ref(bi) + ")",
        {a, bi},
        [a, bi, method](const Pool& p) {
          return method ? p[a].matmul(p[bi]) : xg::matmul(p[a], p[bi]);
        },
        {}, {a, bi});
  }

  bool add_mm(std::size_t a) {
    const std::int64_t r = rank(a);
    if (r == 0) return false;
    // a as a matrix: itself, or its rows flattened
    const bool flat = r != 2;
    const Shape sa = shape(a);
    const std::int64_t k = sa.back();
    const std::string x = flat ? ref(a) + ".reshape([-1, " + std::to_string(k) + "])" : ref(a);
    auto as_matrix = [a, flat, k](const Pool& p) { return flat ? p[a].reshape({-1, k}) : p[a]; };
    const bool method = chance(0.4);
    if (chance(0.3)) {  // a a^T
      return push("mm", "mm(" + x + ", " + x + ".t())", {a}, [as_matrix, method](const Pool& p) {
        const Tensor m = as_matrix(p);
        return method ? m.mm(m.t()) : xg::mm(m, xg::t(m));
      });
    }
    auto fits = [&](std::size_t i) {
      const Shape s = shape(i);
      return s.size() == 2 && s[0] == k && numel_of(sa) / k * s[1] <= kMaxNumel;
    };
    std::optional<std::size_t> b = pick_where(fits);
    if (!b || chance(0.4)) {
      const auto fresh = fresh_leaf({k, range(1, 3)});
      if (fresh) b = fresh;
    }
    if (!b) return false;
    const std::size_t bi = *b;
    return push("mm", "mm(" + x + ", " + ref(bi) + ")", {a, bi},
                [as_matrix, bi, method](const Pool& p) {
                  const Tensor m = as_matrix(p);
                  return method ? m.mm(p[bi]) : xg::mm(m, p[bi]);
                },
                {}, {a, bi});
  }

  bool add_linear(std::size_t a) {
    const std::int64_t r = rank(a);
    if (r == 0) return false;
    const std::int64_t k = shape(a).back();
    auto fits = [&](std::size_t i) {
      const Shape s = shape(i);
      return s.size() == 2 && s[1] == k && numel_of(shape(a)) / k * s[0] <= kMaxNumel;
    };
    std::optional<std::size_t> w;
    if (chance(0.4)) w = pick_where(fits);
    if (!w) w = fresh_leaf({range(1, 3), k});
    if (!w) return false;
    const std::size_t wi = *w;
    const std::int64_t n = shape(wi)[0];
    std::optional<std::size_t> bias;
    const std::size_t bias_kind = uniform(4);
    if (bias_kind == 1) bias = fresh_leaf({n});
    if (bias_kind == 2) bias = fresh_leaf({});
    if (bias_kind == 3) {
      bias = pick_where([&](std::size_t i) { return shape(i) == Shape{n} || shape(i).empty(); });
    }
    const bool functional = chance(0.5);
    std::vector<std::size_t> reads = {a, wi};
    std::string text = std::string(functional ? "F::linear(" : "linear(") + ref(a) + ", " + ref(wi);
    if (bias) {
      reads.push_back(*bias);
      text += ", " + ref(*bias);
    }
    text += ")";
    const std::optional<std::size_t> bi = bias;
    return push("linear", text, reads,
                [a, wi, bi, functional](const Pool& p) {
                  const Tensor b = bi ? p[*bi] : Tensor();
                  return functional ? F::linear(p[a], p[wi], b) : xg::linear(p[a], p[wi], b);
                },
                {}, {a, wi});
  }

  // A random shape with n elements and at most 3 dims ({} for n == 1 sometimes), one dim
  // possibly -1.
  Shape random_shape_with_numel(std::int64_t n) {
    Shape s;
    std::int64_t rest = n;
    const std::size_t dims = uniform(4);
    for (std::size_t i = 0; i + 1 < dims; ++i) {
      std::vector<std::int64_t> divisors;
      for (std::int64_t d = 1; d <= rest; ++d) {
        if (rest % d == 0) divisors.push_back(d);
      }
      const std::int64_t d = one_of(divisors);
      s.push_back(d);
      rest /= d;
    }
    if (dims > 0 || rest != 1) s.push_back(rest);
    std::shuffle(s.begin(), s.end(), rng_);
    if (!s.empty() && chance(0.3)) s[uniform(s.size())] = -1;
    return s;
  }

  bool add_shape_op(std::size_t a) {
    const Shape sa = shape(a);
    const std::int64_t r = rank(a);
    const std::string x = ref(a);
    const bool method = chance(0.4);
    const std::size_t which = uniform(23);
    if (which >= 15) {
      // the view ops of issue 14: select, slice with a step, split/split_with_sizes/chunk/
      // unbind pieces, as_strided, mT (or t), expand_as, contiguous
      static const int kKinds[] = {0, 2, 9, 9, 10, 4, 11, 12};
      return add_view_op(a, kKinds[which - 15]);
    }
    switch (which) {
      case 0: {
        const Shape s = random_shape_with_numel(numel_of(sa));
        return push("reshape", "reshape(" + x + ", " + str(s) + ")", {a},
                    [a, s, method](const Pool& p) {
                      return method ? p[a].reshape(s) : xg::reshape(p[a], s);
                    });
      }
      case 1: {
        const Shape s = random_shape_with_numel(numel_of(sa));
        // view needs compatible strides (a transposed or expanded input has none): such an
        // input is made contiguous first, as a PyTorch user would.
        return push("view", "view(" + x + ", " + str(s) + ")", {a}, [a, s, method](const Pool& p) {
          const Tensor in = p[a].is_contiguous() ? p[a] : p[a].contiguous();
          return method ? in.view(s) : xg::view(in, s);
        });
      }
      case 2: {
        std::int64_t s = 0, e = -1;
        if (r > 0) {
          s = range(0, r - 1);
          e = range(s, r - 1);
          if (chance(0.5)) s -= r;
          if (chance(0.5)) e -= r;
        }
        return push("flatten",
                    "flatten(" + x + ", " + std::to_string(s) + ", " + std::to_string(e) + ")", {a},
                    [a, s, e, method](const Pool& p) {
                      return method ? p[a].flatten(s, e) : xg::flatten(p[a], s, e);
                    });
      }
      case 3: {
        if (chance(0.4)) {
          return push("squeeze", "squeeze(" + x + ")", {a}, [a, method](const Pool& p) {
            return method ? p[a].squeeze() : xg::squeeze(p[a]);
          });
        }
        const std::int64_t d = random_dim(r);
        return push("squeeze", "squeeze(" + x + ", " + std::to_string(d) + ")", {a},
                    [a, d, method](const Pool& p) {
                      return method ? p[a].squeeze(d) : xg::squeeze(p[a], d);
                    });
      }
      case 4: {
        const std::int64_t d = range(-(r + 1), r);
        return push("unsqueeze", "unsqueeze(" + x + ", " + std::to_string(d) + ")", {a},
                    [a, d, method](const Pool& p) {
                      return method ? p[a].unsqueeze(d) : xg::unsqueeze(p[a], d);
                    });
      }
      case 5: {
        const std::int64_t d0 = random_dim(r), d1 = random_dim(r);
        return push("transpose",
                    "transpose(" + x + ", " + std::to_string(d0) + ", " + std::to_string(d1) + ")",
                    {a}, [a, d0, d1, method](const Pool& p) {
                      return method ? p[a].transpose(d0, d1) : xg::transpose(p[a], d0, d1);
                    });
      }
      case 6: {
        Shape perm;
        for (std::int64_t d = 0; d < r; ++d) perm.push_back(d);
        std::shuffle(perm.begin(), perm.end(), rng_);
        for (auto& d : perm) {
          if (chance(0.3)) d -= r;
        }
        return push("permute", "permute(" + x + ", " + str(perm) + ")", {a},
                    [a, perm, method](const Pool& p) {
                      return method ? p[a].permute(perm) : xg::permute(p[a], perm);
                    });
      }
      case 7: {
        Shape target;
        const std::int64_t lead = r < 3 ? static_cast<std::int64_t>(uniform(2)) : 0;
        for (std::int64_t i = 0; i < lead; ++i) target.push_back(range(1, 3));
        for (auto s : sa) {
          if (s == 1 && chance(0.6)) {
            target.push_back(range(1, 3));
          } else {
            target.push_back(chance(0.3) ? -1 : s);
          }
        }
        return push("expand", "expand(" + x + ", " + str(target) + ")", {a},
                    [a, target, method](const Pool& p) {
                      return method ? p[a].expand(target) : xg::expand(p[a], target);
                    });
      }
      case 8:
      case 9: {
        if (r == 0) return add_stack(a);
        const std::int64_t d = random_dim(r);
        const std::int64_t nd = d < 0 ? d + r : d;
        auto fits = [&](std::size_t i) {
          const Shape s = shape(i);
          if (s.size() != sa.size()) return false;
          for (std::size_t k = 0; k < s.size(); ++k) {
            if (static_cast<std::int64_t>(k) != nd && s[k] != sa[k]) return false;
          }
          return true;
        };
        std::vector<std::size_t> parts = {a};
        const std::size_t more = 1 + uniform(2);
        for (std::size_t i = 0; i < more; ++i) parts.push_back(pick_where(fits).value_or(a));
        std::shuffle(parts.begin(), parts.end(), rng_);
        std::string text = "cat({";
        for (std::size_t i = 0; i < parts.size(); ++i) text += (i ? ", " : "") + ref(parts[i]);
        text += "}, " + std::to_string(d) + ")";
        return push("cat", text, parts, [parts, d](const Pool& p) {
          std::vector<Tensor> ts;
          for (auto i : parts) ts.push_back(p[i]);
          return xg::cat(ts, d);
        });
      }
      case 10:
        return add_stack(a);
      case 11:
      case 12: {
        if (r == 0) return false;
        const std::int64_t d = random_dim(r);
        const std::int64_t size = sa[static_cast<std::size_t>(d < 0 ? d + r : d)];
        std::int64_t start = range(0, size - 1);
        const std::int64_t length = range(1, size - start);
        if (chance(0.3)) start -= size;
        return push("narrow",
                    "narrow(" + x + ", " + std::to_string(d) + ", " + std::to_string(start) + ", " +
                        std::to_string(length) + ")",
                    {a}, [a, d, start, length, method](const Pool& p) {
                      return method ? p[a].narrow(d, start, length)
                                    : xg::narrow(p[a], d, start, length);
                    });
      }
      default:
        return add_index_select(a);
    }
  }

  // ---- views and in-place changes ----

  // A view op: its name (for the coverage count), its text ('%' stands for the operand) and
  // the function.
  struct ViewOp {
    std::string op;
    std::string pattern;
    Unary fn;
    std::string text(const std::string& operand) const {
      std::string s = pattern;
      for (auto at = s.find('%'); at != std::string::npos; at = s.find('%', at + operand.size())) {
        s.replace(at, 1, operand);
      }
      return s;
    }
  };

  static Tensor apply_chain(const std::vector<ViewOp>& chain, Tensor t) {
    for (const ViewOp& v : chain) t = v.fn(t);
    return t;
  }
  static std::string chain_text(const std::vector<ViewOp>& chain, std::string operand) {
    for (const ViewOp& v : chain) operand = v.text(operand);
    return operand;
  }

  // A random view of t (the builder's value, for its shape and layout) with at least one
  // element, of kind `kind` (-1: any): 0 select, 1 narrow, 2 slice with a step, 3 transpose,
  // 4 t or mT, 5 permute, 6 unsqueeze, 7 squeeze, 8 view (t contiguous), 9 a piece of split,
  // split_with_sizes, chunk or unbind, 10 as_strided with non-overlapping strides inside t's
  // own elements (t contiguous, `as_strided_ok`). nullopt when the kind does not apply to t.
  std::optional<ViewOp> random_view(const Tensor& t, int kind, bool as_strided_ok) {
    const Shape s = t.shape();
    const auto r = static_cast<std::int64_t>(s.size());
    if (kind < 0) kind = static_cast<int>(uniform(11));
    auto ds = [](std::int64_t v) { return std::to_string(v); };
    // a dim (negative now and then) and its size
    auto some_dim = [&](std::int64_t& d, std::int64_t& size) {
      const std::int64_t k = range(0, r - 1);
      size = s[static_cast<std::size_t>(k)];
      d = chance(0.3) ? k - r : k;
    };
    std::int64_t d = 0, size = 0;
    switch (kind) {
      case 0: {
        if (r == 0) return std::nullopt;
        some_dim(d, size);
        const std::int64_t i = range(-size, size - 1);
        return ViewOp{"select", "%.select(" + ds(d) + ", " + ds(i) + ")",
                      [d, i](const Tensor& x) { return x.select(d, i); }};
      }
      case 1: {
        if (r == 0) return std::nullopt;
        some_dim(d, size);
        const std::int64_t start = range(0, size - 1);
        const std::int64_t length = range(1, size - start);
        return ViewOp{"narrow", "%.narrow(" + ds(d) + ", " + ds(start) + ", " + ds(length) + ")",
                      [d, start, length](const Tensor& x) { return x.narrow(d, start, length); }};
      }
      case 2: {
        if (r == 0) return std::nullopt;
        some_dim(d, size);
        std::optional<std::int64_t> start, end;
        if (chance(0.7)) start = range(-size, size - 1);
        if (chance(0.6)) end = range(-size + 1, size + 1);
        const std::int64_t step = range(1, 3);
        auto clamp = [size](std::int64_t v) {
          if (v < 0) v = v < -size ? 0 : v + size;
          return std::min(v, size);
        };
        const std::int64_t b = clamp(start.value_or(0)), e = clamp(end.value_or(size));
        if (e <= b) return std::nullopt;  // empty
        auto opt = [&](const std::optional<std::int64_t>& v) {
          return v ? ds(*v) : std::string("nullopt");
        };
        return ViewOp{
            "slice",
            "%.slice(" + ds(d) + ", " + opt(start) + ", " + opt(end) + ", " + ds(step) + ")",
            [d, start, end, step](const Tensor& x) { return xg::slice(x, d, start, end, step); }};
      }
      case 3: {
        if (r == 0) return std::nullopt;
        const std::int64_t d0 = random_dim(r), d1 = random_dim(r);
        return ViewOp{"transpose", "%.transpose(" + ds(d0) + ", " + ds(d1) + ")",
                      [d0, d1](const Tensor& x) { return x.transpose(d0, d1); }};
      }
      case 4:
        if (r >= 2 && (r > 2 || chance(0.5))) {
          return ViewOp{"mT", "%.mT()", [](const Tensor& x) { return x.mT(); }};
        }
        return ViewOp{"t", "%.t()", [](const Tensor& x) { return x.t(); }};
      case 5: {
        if (r < 2) return std::nullopt;
        Shape perm;
        for (std::int64_t k = 0; k < r; ++k) perm.push_back(k);
        std::shuffle(perm.begin(), perm.end(), rng_);
        return ViewOp{"permute", "%.permute(" + str(perm) + ")",
                      [perm](const Tensor& x) { return x.permute(perm); }};
      }
      case 6: {
        if (r >= kMaxRank) return std::nullopt;
        d = range(-(r + 1), r);
        return ViewOp{"unsqueeze", "%.unsqueeze(" + ds(d) + ")",
                      [d](const Tensor& x) { return x.unsqueeze(d); }};
      }
      case 7: {
        std::vector<std::int64_t> ones;
        for (std::int64_t k = 0; k < r; ++k) {
          if (s[static_cast<std::size_t>(k)] == 1) ones.push_back(k);
        }
        if (ones.empty()) return std::nullopt;
        d = one_of(ones);
        return ViewOp{"squeeze", "%.squeeze(" + ds(d) + ")",
                      [d](const Tensor& x) { return x.squeeze(d); }};
      }
      case 8: {
        if (!t.is_contiguous()) return std::nullopt;
        const Shape target = random_shape_with_numel(t.numel());
        return ViewOp{"view", "%.view(" + str(target) + ")",
                      [target](const Tensor& x) { return x.view(target); }};
      }
      case 9: {
        if (r == 0) return std::nullopt;
        some_dim(d, size);
        switch (uniform(4)) {
          case 0: {
            const std::int64_t split_size = range(1, size);
            const std::int64_t pieces = (size + split_size - 1) / split_size;
            const auto k = static_cast<std::size_t>(range(0, pieces - 1));
            return ViewOp{
                "split", "%.split(" + ds(split_size) + ", " + ds(d) + ")[" + ds(k) + "]",
                [split_size, d, k](const Tensor& x) { return x.split(split_size, d)[k]; }};
          }
          case 1: {
            Shape sizes;  // a random composition of size, with a zero now and then
            for (std::int64_t left = size; left > 0;) {
              const std::int64_t p = range(1, left);
              sizes.push_back(p);
              left -= p;
              if (chance(0.2)) sizes.push_back(0);
            }
            std::vector<std::size_t> nonempty;
            for (std::size_t k = 0; k < sizes.size(); ++k) {
              if (sizes[k] > 0) nonempty.push_back(k);
            }
            const std::size_t k = one_of(nonempty);
            return ViewOp{
                "split_with_sizes",
                "%.split_with_sizes(" + str(sizes) + ", " + ds(d) + ")[" + ds(k) + "]",
                [sizes, d, k](const Tensor& x) { return x.split_with_sizes(sizes, d)[k]; }};
          }
          case 2: {
            const std::int64_t chunks = range(1, size + 1);
            const std::int64_t each = (size + chunks - 1) / chunks;
            const std::int64_t pieces = (size + each - 1) / each;
            const auto k = static_cast<std::size_t>(range(0, pieces - 1));
            return ViewOp{"chunk", "%.chunk(" + ds(chunks) + ", " + ds(d) + ")[" + ds(k) + "]",
                          [chunks, d, k](const Tensor& x) { return x.chunk(chunks, d)[k]; }};
          }
          default: {
            const auto k = static_cast<std::size_t>(range(0, size - 1));
            return ViewOp{"unbind", "%.unbind(" + ds(d) + ")[" + ds(k) + "]",
                          [d, k](const Tensor& x) { return x.unbind(d)[k]; }};
          }
        }
      }
      default: {
        if (!as_strided_ok || !t.is_contiguous()) return std::nullopt;
        const std::int64_t n = t.numel();
        // sizes of at most n elements, laid out in a permuted row-major order, spaced by gap
        Shape sizes;
        std::int64_t m = 1;
        for (std::size_t k = 0, dims = uniform(4); k < dims; ++k) {
          const std::int64_t z = range(1, 3);
          if (m * z > n) break;
          sizes.push_back(z);
          m *= z;
        }
        std::vector<std::size_t> order(sizes.size());
        for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
        std::shuffle(order.begin(), order.end(), rng_);
        const std::int64_t gap = (2 * (m - 1) + 1 <= n && chance(0.4)) ? 2 : 1;
        Shape strides(sizes.size(), 0);
        std::int64_t run = gap;
        for (std::size_t k = order.size(); k-- > 0;) {
          strides[order[k]] = run;
          run *= sizes[order[k]];
        }
        const std::int64_t extent = gap * (m - 1) + 1;
        const std::int64_t offset = range(0, n - extent);
        const bool own_offset = offset == 0 && chance(0.5);
        return ViewOp{"as_strided",
                      "%.as_strided(" + str(sizes) + ", " + str(strides) + ", " +
                          (own_offset ? std::string("its offset") : "its offset + " + ds(offset)) +
                          ")",
                      [sizes, strides, offset, own_offset](const Tensor& x) {
                        if (own_offset) return x.as_strided(sizes, strides);
                        return x.as_strided(sizes, strides, x.storage_offset() + offset);
                      }};
      }
    }
  }

  // A view step on entry a: kind as random_view (as_strided reads a contiguous copy when a is
  // not contiguous), expand_as another entry (11) or contiguous (12).
  bool add_view_op(std::size_t a, int kind) {
    const std::string x = ref(a);
    if (kind == 11) {
      const Shape sa = shape(a);
      const std::size_t target = pick_where([&](std::size_t i) {
                                   const auto b = broadcast(sa, shape(i));
                                   return b && *b == shape(i) && shape(i) != sa;
                                 }).value_or(a);
      return push("expand_as", x + ".expand_as(" + ref(target) + ")", {a},
                  [a, target](const Pool& p) { return p[a].expand_as(p[target]); });
    }
    if (kind == 12) {
      return push("contiguous", x + ".contiguous()", {a},
                  [a](const Pool& p) { return p[a].contiguous(); });
    }
    const bool dense_first = kind == 10 && !at(a).is_contiguous();
    Tensor probe = at(a);
    if (dense_first) probe = probe.contiguous();
    const std::optional<ViewOp> v = random_view(probe, kind, true);
    if (!v) return false;
    return push(v->op, v->text(dense_first ? x + ".contiguous()" : x), {a},
                [a, f = v->fn, dense_first](const Pool& p) {
                  return f(dense_first ? p[a].contiguous() : p[a]);
                });
  }

  // One in-place change inside an in-place step.
  struct Change {
    std::string op;  // "add_", ... for the coverage count
    std::string text;
    std::function<void(const Pool&, const Tensor& base)> apply;
  };

  // A step that changes a tensor computed from entry a in place (never a pool entry itself, so
  // that no other entry's saved tensors are touched): the tensor is a.clone(), a * c, or a
  // buffer of zeros (no grad) into which a view of a is first copied. Then one to three
  // changes, each on the tensor itself or on a chain of one or two views of it: add_, sub_ (a
  // tensor that broadcasts to the target, a 0-d mean, a scalar, or another view of the same
  // tensor), mul_ (the same, or the target itself), div_ (by a positive entry or a scalar),
  // copy_, fill_, zero_. The result is the tensor, a view made after the changes, or (cloned)
  // a view made before them, which sees them.
  bool add_inplace(std::size_t a) {
    const Tensor av = at(a);
    const std::string x = ref(a);
    const std::size_t base_kind = uniform(3);
    const double factor = one_of(std::vector<double>{1.5, -0.5, 2.0});
    std::function<Tensor(const Pool&)> make_base;
    std::string base_text;
    if (base_kind == 0) {
      make_base = [a](const Pool& p) { return p[a].clone(); };
      base_text = x + ".clone()";
    } else if (base_kind == 1) {
      make_base = [a, factor](const Pool& p) { return p[a] * factor; };
      base_text = "(" + x + " * " + num(factor) + ")";
    } else {
      const Shape s = shape(a);
      make_base = [a, s](const Pool& p) { return xg::zeros(s, p[a].dtype()); };
      base_text = "zeros(" + str(s) + ")";
    }
    Tensor probe;  // the base's values as the step goes (builder values, not recorded)
    {
      xg::NoGradGuard no_grad;
      probe = make_base(pool_);
    }
    // A chain of up to `most` views of the probe, each with at least one element.
    auto random_chain = [&](std::size_t most, bool as_strided_ok) {
      std::vector<ViewOp> chain;
      Tensor t = probe;
      const std::size_t n = uniform(most + 1);
      for (std::size_t k = 0; k < n; ++k) {
        const auto v = random_view(t, -1, as_strided_ok && k == 0);
        if (!v) continue;
        xg::NoGradGuard no_grad;
        const Tensor next = v->fn(t);
        if (next.numel() == 0 || next.dim() > kMaxRank) continue;
        chain.push_back(*v);
        t = next;
      }
      return chain;
    };
    auto view_of_probe = [&](const std::vector<ViewOp>& chain) {
      xg::NoGradGuard no_grad;
      return apply_chain(chain, probe);
    };
    std::vector<std::size_t> reads = {a};
    std::vector<Change> changes;
    std::vector<std::string> texts;

    std::optional<std::vector<ViewOp>> older;
    if (chance(0.3)) older = random_chain(2, true);
    const std::string base_ref = "b";

    if (base_kind == 2) {
      // copy a view of a into the same view of the buffer (of a contiguous a: the chain was
      // drawn for the buffer's layout, and view and as_strided depend on it)
      const std::vector<ViewOp> chain = random_chain(2, true);
      changes.push_back(
          {"copy_",
           chain_text(chain, base_ref) + ".copy_(" + chain_text(chain, x + ".contiguous()") + ")",
           [a, chain](const Pool& p, const Tensor& b) {
             Tensor v = apply_chain(chain, b);
             v.copy_(apply_chain(chain, p[a].contiguous()));
           }});
      xg::NoGradGuard no_grad;
      changes.back().apply(pool_, probe);
    }
    const std::size_t n_changes = 1 + uniform(3);
    for (std::size_t c = 0; c < n_changes; ++c) {
      const std::vector<ViewOp> chain = chance(0.3) ? std::vector<ViewOp>{} : random_chain(2, true);
      const Tensor target = view_of_probe(chain);
      const Shape st = target.shape();
      const std::string tt = chain_text(chain, base_ref);
      const std::size_t op = uniform(8);  // add_, sub_, mul_, div_, copy_, fill_, zero_, mul_ self
      if (op == 5 || op == 6) {
        const double value = one_of(std::vector<double>{0.5, -1.25, 2.0});
        changes.push_back({op == 5 ? "fill_" : "zero_",
                           tt + (op == 5 ? ".fill_(" + num(value) + ")" : ".zero_()"),
                           [chain, op, value](const Pool&, const Tensor& b) {
                             Tensor v = apply_chain(chain, b);
                             if (op == 5) {
                               v.fill_(value);
                             } else {
                               v.zero_();
                             }
                           }});
      } else if (op == 7) {
        changes.push_back({"mul_", tt + ".mul_(itself)", [chain](const Pool&, const Tensor& b) {
                             Tensor v = apply_chain(chain, b);
                             v.mul_(v);
                           }});
      } else {
        // the operand
        const bool divides = op == 3;
        const std::size_t form = uniform(10);  // 0-4 entry, 5-6 mean, 7-8 scalar, 9 sibling view
        std::function<Tensor(const Pool&, const Tensor&)> operand;
        std::optional<double> scalar;
        std::string ot;
        if (form <= 4) {
          const auto b = pick_where([&](std::size_t i) {
            const auto bs = broadcast(st, shape(i));
            return bs && *bs == st;
          });
          if (b) {
            const Prep pr = divides ? positive(*b) : Prep{};
            operand = [bi = *b, pr](const Pool& p, const Tensor&) { return pr.apply(p[bi]); };
            ot = pr.text(ref(*b));
            reads.push_back(*b);
          }
        }
        if (!operand && form <= 6) {
          const std::size_t b = pick();
          const Prep pr = divides ? positive(b) : Prep{};
          operand = [b, pr](const Pool& p, const Tensor&) { return pr.apply(p[b]).mean(); };
          ot = pr.text(ref(b)) + ".mean()";
          reads.push_back(b);
        }
        if (!operand && form == 9 && !divides && op != 2) {
          // another view of the base, of the target's shape (add_, sub_ and copy_ only: mul_
          // and div_ save their operand, which the write itself would change)
          for (int attempt = 0; attempt < 4 && !operand; ++attempt) {
            const std::vector<ViewOp> other = random_chain(2, true);
            if (view_of_probe(other).shape() != st) continue;
            operand = [other](const Pool&, const Tensor& b) { return apply_chain(other, b); };
            ot = chain_text(other, base_ref);
          }
        }
        if (!operand) {
          scalar = divides ? one_of(std::vector<double>{0.5, -0.8, 2.0})
                           : one_of(std::vector<double>{0.5, -1.5, 2.0});
          if (op == 4) {  // copy_ of a number: a 0-d constant
            operand = [v = *scalar](const Pool&, const Tensor&) {
              return xg::scalar_tensor(v, xg::kFloat64);
            };
            ot = "tensor(" + num(*scalar) + ")";
            scalar.reset();
          } else {
            ot = num(*scalar);
          }
        }
        const double alpha = one_of(std::vector<double>{1.0, 1.0, -0.5, 2.0});
        static const char* kNames[] = {"add_", "sub_", "mul_", "div_", "copy_"};
        std::string text = tt + "." + kNames[op] + "(" + ot;
        if ((op == 0 || op == 1) && !scalar && alpha != 1.0) text += ", " + num(alpha);
        text += ")";
        changes.push_back(
            {kNames[op], text, [chain, op, operand, scalar, alpha](const Pool& p, const Tensor& b) {
               Tensor v = apply_chain(chain, b);
               if (scalar) {
                 switch (op) {
                   case 0:
                     v.add_(*scalar);
                     break;
                   case 1:
                     v -= *scalar;
                     break;
                   case 2:
                     v *= *scalar;
                     break;
                   default:
                     v.div_(*scalar);
                     break;
                 }
                 return;
               }
               const Tensor o = operand(p, b);
               switch (op) {
                 case 0:
                   v.add_(o, alpha);
                   break;
                 case 1:
                   v.sub_(o, alpha);
                   break;
                 case 2:
                   v.mul_(o);
                   break;
                 case 3:
                   v /= o;
                   break;
                 default:
                   v.copy_(o);
                   break;
               }
             }});
      }
      // keep the probe up to date, so that later choices see the changed values' shapes
      {
        xg::NoGradGuard no_grad;
        changes.back().apply(pool_, probe);
      }
      if (!chain.empty()) changes.back().op += " (view)";
    }
    // the result
    const std::size_t result_kind = older ? 2 : uniform(2);
    std::vector<ViewOp> after;
    if (result_kind == 1) after = random_chain(2, true);
    std::string text = "inplace b = " + base_text + "; ";
    if (older) text += "o = " + chain_text(*older, base_ref) + "; ";
    for (const Change& c : changes) text += c.text + "; ";
    text += result_kind == 2 ? "o.clone()" : chain_text(after, base_ref);
    std::sort(reads.begin(), reads.end());
    reads.erase(std::unique(reads.begin(), reads.end()), reads.end());
    std::vector<Change> run = changes;
    const bool ok = push("inplace", text, reads,
                         [make_base, older, run, result_kind, after](const Pool& p) {
                           const Tensor b = make_base(p);
                           const Tensor o = older ? apply_chain(*older, b) : Tensor();
                           for (const Change& c : run) c.apply(p, b);
                           // The view made before the changes is read through clone(): see
                           // InplaceRecording.OlderViewReportsRequiresGradLikePyTorch in
                           // test_inplace.cpp (such a view does not report requires_grad until an
                           // op reads it).
                           if (result_kind == 2) return o.clone();
                           return apply_chain(after, b);
                         },
                         {a});
    if (ok) {
      for (const Change& c : changes) prog_.ops.push_back(c.op);
      if (older) prog_.ops.push_back("inplace (older view)");
    }
    return ok;
  }

  bool add_stack(std::size_t a) {
    const Shape sa = shape(a);
    const std::int64_t r = rank(a);
    const std::int64_t d = range(-(r + 1), r);
    std::vector<std::size_t> parts = {a};
    const std::size_t more = 1 + uniform(2);
    for (std::size_t i = 0; i < more; ++i) {
      parts.push_back(pick_where([&](std::size_t k) { return shape(k) == sa; }).value_or(a));
    }
    std::shuffle(parts.begin(), parts.end(), rng_);
    std::string text = "stack({";
    for (std::size_t i = 0; i < parts.size(); ++i) text += (i ? ", " : "") + ref(parts[i]);
    text += "}, " + std::to_string(d) + ")";
    return push("stack", text, parts, [parts, d](const Pool& p) {
      std::vector<Tensor> ts;
      for (auto i : parts) ts.push_back(p[i]);
      return xg::stack(ts, d);
    });
  }

  bool add_index_select(std::size_t a) {
    const Shape sa = shape(a);
    const std::int64_t r = rank(a);
    const std::int64_t d = random_dim(r);
    const std::int64_t size = r == 0 ? 1 : sa[static_cast<std::size_t>(d < 0 ? d + r : d)];
    const bool method = chance(0.4);
    const std::string x = ref(a);
    if (chance(0.35)) {
      // the index: argmax or argmin of an entry of rank 1 or 2 along a dim, with a clear winner
      auto fits = [&](std::size_t i) {
        const Shape s = shape(i);
        if (s.empty() || s.size() > 2) return false;
        return s.back() <= size;
      };
      const auto c = pick_where(fits);
      if (c && (r > 0 || shape(*c).size() == 1)) {  // a 0-d tensor takes one index
        const std::size_t ci = *c;
        const std::int64_t cd = -1;  // its last dim, whose size fits
        const bool is_max = chance(0.5);
        if (extreme_gap(at(ci), {cd}, is_max) >= kMargin) {
          const std::string op = is_max ? "argmax" : "argmin";
          return push(
              op,
              "index_select(" + x + ", " + std::to_string(d) + ", " + op + "(" + ref(ci) + ", -1))",
              {a},  // ci only gives the index: not a differentiable read
              [a, ci, d, is_max, method](const Pool& p) {
                const Tensor idx = is_max ? xg::argmax(p[ci], -1) : p[ci].argmin(-1);
                return method ? p[a].index_select(d, idx) : xg::index_select(p[a], d, idx);
              });
        }
      }
    }
    const bool zero_d = chance(0.15);
    std::vector<double> idx;
    const std::size_t n = zero_d || r == 0 ? 1 : 1 + uniform(4);  // a 0-d tensor takes one
    for (std::size_t i = 0; i < n; ++i) idx.push_back(static_cast<double>(range(0, size - 1)));
    const Shape is = zero_d ? Shape{} : Shape{static_cast<std::int64_t>(n)};
    std::string text = "index_select(" + x + ", " + std::to_string(d) + ", [";
    for (std::size_t i = 0; i < n; ++i) text += (i ? ", " : "") + num(idx[i]);
    text += zero_d ? "] 0-d)" : "])";
    return push("index_select", text, {a}, [a, d, idx, is, method](const Pool& p) {
      const Tensor index = xg::tensor(idx, is, xg::kInt64);
      return method ? p[a].index_select(d, index) : xg::index_select(p[a], d, index);
    });
  }

  bool add_loss(std::size_t a) {
    const Shape sa = shape(a);
    const std::int64_t r = rank(a);
    const auto red = one_of(std::vector<xg::nn::Reduction>{
        xg::nn::Reduction::None, xg::nn::Reduction::Mean, xg::nn::Reduction::Sum});
    const std::string rs = red == xg::nn::Reduction::None   ? "None"
                           : red == xg::nn::Reduction::Mean ? "Mean"
                                                            : "Sum";
    const std::string x = ref(a);
    const std::size_t kind = uniform(5);
    if (kind <= 2) {
      // a target of the same shape: another entry, or a fresh leaf
      std::optional<std::size_t> t;
      if (chance(0.6)) t = pick_where([&](std::size_t i) { return i != a && shape(i) == sa; });
      if (!t) t = fresh_leaf(sa);
      if (!t) return false;
      const std::size_t ti = *t;
      if (kind == 0) {
        return push("mse_loss", "mse_loss(" + x + ", " + ref(ti) + ", " + rs + ")", {a, ti},
                    [a, ti, red](const Pool& p) { return F::mse_loss(p[a], p[ti], red); });
      }
      if (kind == 1) {
        Tensor diff;
        {
          xg::NoGradGuard no_grad;
          diff = at(a) - at(ti);
        }
        const double c = safe_point(values_of(diff), kMargin);
        const std::string tt = c == 0 ? ref(ti) : "(" + ref(ti) + " + " + num(c) + ")";
        return push("l1_loss", "l1_loss(" + x + ", " + tt + ", " + rs + ")", {a, ti},
                    [a, ti, red, c](const Pool& p) {
                      return F::l1_loss(p[a], c == 0 ? p[ti] : p[ti] + c, red);
                    });
      }
      return push("binary_cross_entropy_with_logits",
                  "binary_cross_entropy_with_logits(" + x + ", " + ref(ti) + ", " + rs + ")",
                  {a, ti}, [a, ti, red](const Pool& p) {
                    return F::binary_cross_entropy_with_logits(p[a], p[ti], red);
                  });
    }
    // class scores: [C], [N, C] or [N, C, d]
    if (r == 0) return false;
    const std::int64_t class_dim = r == 1 ? 0 : 1;
    const std::int64_t classes = sa[static_cast<std::size_t>(class_dim)];
    Shape ts = sa;
    ts.erase(ts.begin() + class_dim);
    std::vector<double> targets;
    for (std::int64_t i = 0; i < numel_of(ts); ++i) {
      targets.push_back(static_cast<double>(range(0, classes - 1)));
    }
    std::int64_t ignore = -100;
    if (chance(0.3)) {
      ignore = chance(0.5) ? -100 : range(0, classes - 1);
      for (auto& t : targets) {
        if (chance(0.3)) t = static_cast<double>(ignore);
      }
      // at least one target counts (else Mean divides by 0, as in PyTorch)
      if (std::all_of(targets.begin(), targets.end(),
                      [&](double t) { return t == static_cast<double>(ignore); })) {
        if (ignore == -100) {
          targets[0] = static_cast<double>(range(0, classes - 1));
        } else {
          ignore = -100;  // the targets, all one class, count again
        }
      }
    }
    const std::string ignore_text = ignore == -100 ? "" : ", ignore " + std::to_string(ignore);
    if (kind == 3) {
      const bool log_softmax_first = chance(0.5);
      return push(
          "nll_loss",
          "nll_loss(" +
              (log_softmax_first ? "log_softmax(" + x + ", " + std::to_string(class_dim) + ")"
                                 : x) +
              ", targets " + str(ts) + ", " + rs + ignore_text + ")",
          {a}, [a, targets, ts, red, ignore, log_softmax_first, class_dim](const Pool& p) {
            const Tensor in = log_softmax_first ? xg::log_softmax(p[a], class_dim) : p[a];
            return F::nll_loss(in, xg::tensor(targets, ts, xg::kInt64), red, ignore);
          });
    }
    const double smoothing = one_of(std::vector<double>{0.0, 0.0, 0.1, 0.3});
    return push("cross_entropy",
                "cross_entropy(" + x + ", targets " + str(ts) + ", " + rs + ignore_text +
                    ", smoothing " + num(smoothing) + ")",
                {a}, [a, targets, ts, red, ignore, smoothing](const Pool& p) {
                  return F::cross_entropy(p[a], xg::tensor(targets, ts, xg::kInt64), red, ignore,
                                          smoothing);
                });
  }

  // The output: the newest entry plus a small multiple of the mean of every entry nothing read
  // (so every leaf reaches it), reduced to a scalar half the time.
  void add_output() {
    const std::size_t last = pool_.size() - 1;
    std::set<std::size_t> read;
    for (const Entry& e : prog_.entries) read.insert(e.reads.begin(), e.reads.end());
    std::vector<std::size_t> others;
    for (std::size_t i = 0; i < last; ++i) {
      if (!read.count(i)) others.push_back(i);
    }
    const bool reduce = chance(0.5) || numel_of(shape(last)) > 12;
    std::string text = ref(last);
    for (std::size_t k = 0; k < others.size(); ++k) {
      text +=
          " + " + num(0.1 * static_cast<double>(1 + k % 3)) + " * " + ref(others[k]) + ".mean()";
    }
    if (reduce) text = "sum(" + text + ")";
    std::vector<std::size_t> reads = others;
    reads.push_back(last);
    push("output", "output " + text, reads, [last, others, reduce](const Pool& p) {
      Tensor out = p[last];
      for (std::size_t k = 0; k < others.size(); ++k) {
        out = out + 0.1 * static_cast<double>(1 + k % 3) * p[others[k]].mean();
      }
      return reduce ? out.sum() : out;
    });
    if (failed_) return;
    prog_.out_shape = pool_.back().shape();
    prog_.out_weights = normals(numel_of(prog_.out_shape));
  }

  // ---- ops that do not fit ----

  // Two tensors derived from entry a whose shapes do not broadcast.
  static std::pair<Tensor, Tensor> clashing_pair(const Tensor& x) {
    const Shape s = x.shape();
    for (std::size_t i = 0; i < s.size(); ++i) {
      if (s[i] >= 2) return {x, xg::cat({x, x}, static_cast<std::int64_t>(i))};
    }
    const Tensor one = x.reshape({1});
    return {one.expand({2}), one.expand({3})};
  }

  Mismatch random_mismatch() {
    const std::size_t a = pick();
    const std::size_t b = pick();
    const std::int64_t r = rank(a);
    const std::string x = ref(a);
    switch (uniform(12)) {
      case 9:
      case 10:
        return random_pairing(a, b);
      case 11:
        return view_mismatch(a);
      case 0: {  // binary ops on shapes that do not broadcast
        const std::size_t op = uniform(12);
        const bool swap = chance(0.5);
        return [a, op, swap, x](const Pool& p) {
          auto [u, v] = clashing_pair(p[a]);
          if (swap) std::swap(u, v);
          static const char* kNames[] = {"add",
                                         "sub",
                                         "mul",
                                         "div",
                                         "pow",
                                         "maximum",
                                         "minimum",
                                         "where",
                                         "mse_loss",
                                         "l1_loss",
                                         "bce_with_logits",
                                         "add_alpha"};
          BadCall c{std::string(kNames[op]) + " of " + str(u.shape()) + " and " + str(v.shape()) +
                        " derived from " + x,
                    Err::Invalid,
                    {p[a], u, v},
                    nullptr};
          c.call = [u = u, v = v, op] {
            switch (op) {
              case 0:
                (void)(u + v);
                break;
              case 1:
                (void)xg::sub(u, v);
                break;
              case 2:
                (void)u.mul(v);
                break;
              case 3:
                (void)(u / v);
                break;
              case 4:
                (void)xg::pow(u, v);
                break;
              case 5:
                (void)xg::maximum(u, v);
                break;
              case 6:
                (void)u.minimum(v);
                break;
              case 7:
                (void)xg::where(xg::ones(u.shape(), xg::kBool), u, v);
                break;
              case 8:
                (void)F::mse_loss(u, v);
                break;
              case 9:
                (void)F::l1_loss(u, v);
                break;
              case 10:
                (void)F::binary_cross_entropy_with_logits(u, v);
                break;
              default:
                (void)xg::add(u, v, 2.5);
                break;
            }
          };
          return c;
        };
      }
      case 1: {  // matmul, mm and linear with inner dims that differ
        const std::size_t op = uniform(5);
        return [a, b, op, x](const Pool& p) {
          const Tensor u = p[a].dim() == 0 ? p[a].reshape({1}) : p[a];
          const std::int64_t k = u.size(-1);
          Tensor col = p[b].flatten();
          if (col.numel() == k) col = xg::cat({col, col});
          BadCall c{"", Err::Invalid, {p[a], p[b], u, col}, nullptr};
          switch (op) {
            case 0:
              c.text = "matmul(" + str(u.shape()) + ", " + str(col.reshape({-1, 1}).shape()) + ")";
              c.call = [u, col] { (void)xg::matmul(u, col.reshape({-1, 1})); };
              break;
            case 1:
              c.text = "matmul(" + str(u.shape()) + ", " + str(col.shape()) + ")";
              c.call = [u, col] { (void)u.matmul(col); };
              break;
            case 2:
              c.text = "mm(" + str({u.numel() / k, k}) + ", " + str({col.numel(), 1}) + ")";
              c.call = [u, col, k] { (void)xg::mm(u.reshape({-1, k}), col.reshape({-1, 1})); };
              break;
            case 3:
              c.text = "linear(" + str(u.shape()) + ", weight " + str({1, col.numel()}) + ")";
              c.call = [u, col] { (void)xg::linear(u, col.reshape({1, -1})); };
              break;
            default:
              c.text = "F::linear(" + str(u.shape()) + ", 1-D weight " + str(col.shape()) + ")";
              c.call = [u, col] { (void)F::linear(u, col); };
              break;
          }
          c.text += " from " + x;
          return c;
        };
      }
      case 2: {  // matmul family: 0-d operands, wrong ranks, mixed dtypes
        const std::size_t op = uniform(4);
        return [a, op, x](const Pool& p) {
          const Tensor u = p[a].dim() == 0 ? p[a].reshape({1}) : p[a];
          // v multiplies u: its transpose for a matrix, itself for a vector
          const Tensor v = u.dim() == 1 ? u : u.transpose(-1, -2);
          BadCall c{"", Err::Invalid, {p[a], u, v}, nullptr};
          switch (op) {
            case 0:
              c.text = "matmul of a 0-d tensor and " + str(u.shape());
              c.call = [u] { (void)xg::matmul(u.sum(), u); };
              break;
            case 1:
              c.text = "matmul(" + str(u.shape()) + " Float64, " + str(v.shape()) + " Float32)";
              c.call = [u, v] { (void)xg::matmul(u, v.to(xg::kFloat32)); };
              break;
            case 2:
              c.text = "mm of " + str(u.unsqueeze(0).shape()) + " (3-D or more)";
              c.call = [u, v] { (void)xg::mm(u.unsqueeze(0), v); };
              break;
            default:
              c.text = "linear(" + str(u.shape()) + " Float32, weight Float64)";
              c.call = [u] {
                (void)xg::linear(u.to(xg::kFloat32), xg::ones({2, u.size(-1)}, xg::kFloat64));
              };
              break;
          }
          c.text += " from " + x;
          return c;
        };
      }
      case 3: {  // cat and stack of shapes that do not fit
        const std::size_t op = uniform(3);
        return [a, op, r, x](const Pool& p) {
          const Tensor u = p[a];
          BadCall c{"", Err::Invalid, {u}, nullptr};
          if (r == 0) {
            c.text = "cat of 0-d tensors " + x;
            c.call = [u] { (void)xg::cat({u, u}, 0); };
            return c;
          }
          const std::int64_t d = 0;
          const Tensor v = r >= 2 ? xg::cat({u, u}, 1) : u.unsqueeze(0);
          c.operands.push_back(v);
          if (op == 0) {
            c.text = "cat({" + str(u.shape()) + ", " + str(v.shape()) + "}, 0) from " + x;
            c.call = [u, v, d] { (void)xg::cat({u, v}, d); };
          } else {
            c.text = "stack({" + str(u.shape()) + ", " + str(v.shape()) + "}) from " + x;
            c.call = [u, v, op] { (void)xg::stack({u, v}, op == 1 ? 0 : -1); };
          }
          return c;
        };
      }
      case 4: {  // expand, reshape, view and permute that do not fit
        const std::size_t op = uniform(7);
        return [a, op, x](const Pool& p) {
          const Tensor u = p[a];
          const Shape s = u.shape();
          BadCall c{"", Err::Invalid, {u}, nullptr};
          switch (op) {
            case 6: {
              // a 0-d tensor has room for exactly one index (this once wrote past its buffer)
              const Tensor s0 = u.dim() == 0 ? u : u.sum();
              c.operands.push_back(s0);
              const bool empty = u.numel() % 2 == 0;
              c.text = std::string("index_select of a 0-d tensor with ") +
                       (empty ? "an empty index" : "the index [0, 0]");
              c.call = [s0, empty] {
                (void)xg::index_select(
                    s0, 0, empty ? xg::zeros({0}, xg::kInt64) : xg::zeros({2}, xg::kInt64));
              };
              break;
            }
            case 0: {
              // a size of 2 or more grown by one; else fewer dims than the tensor; else (0-d)
              // -1 for a new leading dim
              Shape target = s;
              const auto grow =
                  std::find_if(target.begin(), target.end(), [](std::int64_t d) { return d >= 2; });
              if (grow != target.end()) {
                *grow += 1;
                c.text = "expand(" + str(s) + ", " + str(target) + ")";
              } else if (!s.empty()) {
                target.erase(target.begin());
                c.text = "expand(" + str(s) + ", " + str(target) + ") (fewer dims)";
              } else {
                target = {-1};
                c.text = "expand([], [-1]) (-1 for a new leading dim)";
              }
              c.call = [u, target] { (void)xg::expand(u, target); };
              break;
            }
            case 1:
              c.text = "reshape(" + str(s) + ", [" + std::to_string(u.numel() + 1) + "])";
              c.call = [u] { (void)xg::reshape(u, {u.numel() + 1}); };
              break;
            case 2:
              c.text = "view(" + str(s) + ", [-1, -1])";
              c.call = [u] { (void)u.view({-1, -1}); };
              break;
            case 3:
              c.text = "reshape(" + str(s) + ", [-1, " + std::to_string(u.numel() + 1) + "])";
              c.call = [u] { (void)u.reshape({-1, u.numel() + 1}); };
              break;
            case 4: {
              Shape dims;
              for (std::int64_t d = 0; d <= u.dim(); ++d) dims.push_back(d);
              c.text = "permute(" + str(s) + ", " + str(dims) + ")";
              c.call = [u, dims] { (void)xg::permute(u, dims); };
              break;
            }
            default: {
              if (u.dim() < 2) {
                c.text = "permute(" + str(s) + ", [0, 0])";
                c.call = [u] { (void)u.permute({0, 0}); };
              } else {
                Shape dims(static_cast<std::size_t>(u.dim()), 0);
                c.text = "permute(" + str(s) + ", " + str(dims) + ") (repeated dims)";
                c.call = [u, dims] { (void)xg::permute(u, dims); };
              }
              break;
            }
          }
          c.text += " on " + x;
          return c;
        };
      }
      case 5: {  // dims and indices out of range
        const std::size_t op = uniform(14);
        return [a, op, x](const Pool& p) {
          const Tensor u = p[a];
          const std::int64_t n = u.dim();
          const std::int64_t big = std::max<std::int64_t>(n, 1);  // first dim out of range
          BadCall c{"", Err::OutOfRange, {u}, nullptr};
          const std::string bs = std::to_string(big);
          switch (op) {
            case 0:
              c.text = "sum(" + str(u.shape()) + ", {" + bs + "})";
              c.call = [u, big] { (void)xg::sum(u, {big}); };
              break;
            case 1:
              c.text = "mean(" + str(u.shape()) + ", {-" + std::to_string(big + 1) + "})";
              c.call = [u, big] { (void)u.mean({-big - 1}, true); };
              break;
            case 2:
              c.text = "amax(" + str(u.shape()) + ", {" + bs + "})";
              c.call = [u, big] { (void)xg::amax(u, {big}); };
              break;
            case 3:
              c.text = "logsumexp(" + str(u.shape()) + ", {" + bs + "})";
              c.call = [u, big] { (void)xg::logsumexp(u, {big}); };
              break;
            case 4:
              c.text = "softmax(" + str(u.shape()) + ", " + bs + ")";
              c.call = [u, big] { (void)xg::softmax(u, big); };
              break;
            case 5:
              c.text = "log_softmax(" + str(u.shape()) + ", -" + std::to_string(big + 1) + ")";
              c.call = [u, big] { (void)u.log_softmax(-big - 1); };
              break;
            case 6:
              c.text = "transpose(" + str(u.shape()) + ", 0, " + bs + ")";
              c.call = [u, big] { (void)xg::transpose(u, 0, big); };
              break;
            case 7:
              c.text = "unsqueeze(" + str(u.shape()) + ", " + std::to_string(n + 1) + ")";
              c.call = [u, n] { (void)xg::unsqueeze(u, n + 1); };
              break;
            case 8:
              c.text = "squeeze(" + str(u.shape()) + ", " + bs + ")";
              c.call = [u, big] { (void)u.squeeze(big); };
              break;
            case 9:
              c.text = "argmax(" + str(u.shape()) + ", " + bs + ")";
              c.call = [u, big] { (void)xg::argmax(u, big); };
              break;
            case 10:
              c.text = "stack({" + str(u.shape()) + " x2}, " + std::to_string(n + 2) + ")";
              c.call = [u, n] { (void)xg::stack({u, u}, n + 2); };
              break;
            case 11: {
              const std::int64_t size = n == 0 ? 1 : u.size(0);
              c.text = "index_select(" + str(u.shape()) + ", 0, [" + std::to_string(size) + "])";
              c.call = [u, size] {
                (void)xg::index_select(u, 0, xg::tensor({double(size)}, xg::kInt64));
              };
              break;
            }
            case 12: {
              c.text = "index_select(" + str(u.shape()) + ", 0, [-1])";
              c.call = [u] { (void)u.index_select(0, xg::tensor({-1.0}, xg::kInt64)); };
              break;
            }
            default: {
              if (n == 0) {  // narrow refuses 0-d tensors as a value error
                c.text = "narrow of a 0-d tensor";
                c.expected = Err::Invalid;
                c.call = [u] { (void)xg::narrow(u, 0, 0, 1); };
              } else {
                const std::int64_t size = u.size(-1);
                c.text = "narrow(" + str(u.shape()) + ", -1, 0, " + std::to_string(size + 1) + ")";
                c.call = [u, size] { (void)xg::narrow(u, -1, 0, size + 1); };
              }
              break;
            }
          }
          c.text += " on " + x;
          return c;
        };
      }
      case 6: {  // Int64 where a floating tensor is needed
        const std::size_t op = uniform(7);
        return [a, op, x](const Pool& p) {
          const Tensor u = p[a];
          const Tensor ix = xg::argmax(u);  // Int64, 0-d
          BadCall c{"", Err::Invalid, {u, ix}, nullptr};
          switch (op) {
            case 0:
              c.text = "requires_grad_() on Int64 argmax";
              c.call = [ix] {
                Tensor t = ix;
                t.requires_grad_();
              };
              break;
            case 1:
              c.text = "mean of Int64 argmax";
              c.call = [ix] { (void)xg::mean(ix); };
              break;
            case 2:
              c.text = "softmax of Int64 argmax";
              c.call = [ix] { (void)xg::softmax(ix.reshape({1}), 0); };
              break;
            case 3:
              c.text = "index_select with a Float64 index";
              c.call = [u] { (void)xg::index_select(u, 0, xg::zeros({1}, xg::kFloat64)); };
              break;
            case 4:
              c.text = "pow(Int64, -1)";
              c.call = [ix] { (void)xg::pow(ix, -1); };
              break;
            case 5:
              c.text = "matmul(Float64, Int64)";
              c.call = [u] {
                const Tensor v = u.dim() == 0 ? u.reshape({1}) : u;
                (void)xg::matmul(v, xg::ones({v.size(-1)}, xg::kInt64));
              };
              break;
            default:
              c.text = "an Int64 tensor created with requires_grad";
              c.call = [] {
                (void)xg::zeros({2}, xg::TensorOptions().dtype(xg::kInt64).requires_grad(true));
              };
              break;
          }
          c.text += " (" + x + ")";
          return c;
        };
      }
      case 7: {  // losses with targets that do not fit
        const std::size_t op = uniform(6);
        return [a, op, x](const Pool& p) {
          const Tensor u = p[a].dim() == 0 ? p[a].reshape({1}) : p[a];
          const Tensor v = u.reshape({-1});  // Float64 targets where Int64 ones are needed
          const std::int64_t cd = u.dim() == 1 ? 0 : 1;
          const std::int64_t classes = u.size(cd);
          Shape ts = u.shape();
          ts.erase(ts.begin() + cd);
          BadCall c{"", Err::Invalid, {p[a], u, v}, nullptr};
          switch (op) {
            case 0:
              c.text = "nll_loss with Float64 targets";
              c.call = [u, ts] { (void)F::nll_loss(u, xg::zeros(ts, xg::kFloat64)); };
              break;
            case 1: {
              Shape wrong = ts;
              wrong.push_back(2);
              c.text = "cross_entropy with targets " + str(wrong);
              c.call = [u, wrong] { (void)F::cross_entropy(u, xg::zeros(wrong, xg::kInt64)); };
              break;
            }
            case 2:
              c.text = "cross_entropy with a target of class " + std::to_string(classes);
              c.expected = Err::OutOfRange;
              c.call = [u, ts, classes] {
                (void)F::cross_entropy(u, xg::full(ts, classes, xg::kInt64));
              };
              break;
            case 3:
              c.text = "nll_loss with a target of -1";
              c.expected = Err::OutOfRange;
              c.call = [u, ts] { (void)F::nll_loss(u, xg::full(ts, -1, xg::kInt64)); };
              break;
            case 4:
              c.text = "cross_entropy with label_smoothing 1.5";
              c.call = [u, ts] {
                (void)F::cross_entropy(u, xg::zeros(ts, xg::kInt64), xg::nn::Reduction::Mean, -100,
                                       1.5);
              };
              break;
            default:
              c.text = "cross_entropy of a 0-d input";
              c.call = [u] { (void)F::cross_entropy(u.sum(), xg::zeros({}, xg::kInt64)); };
              break;
          }
          c.text += " on " + str(u.shape()) + " from " + x;
          return c;
        };
      }
      default: {  // in place: on leaves that require grad, growing, float into Int64
        const std::size_t op = uniform(5);
        return [a, op, x](const Pool& p) {
          const Tensor u = p[a];
          BadCall c{"", Err::Invalid, {u}, nullptr};
          switch (op) {
            case 0:
            case 1:
              // As PyTorch, only a leaf is refused: an op's result records the change.
              if (u.requires_grad() && u.is_leaf()) {
                c.expected = Err::Runtime;
                c.text = op == 0 ? "add_ on a leaf that requires grad"
                                 : "mul_ by 2 on a leaf that requires grad";
                c.call = [u, op] {
                  Tensor t = u;
                  if (op == 0) {
                    t.add_(u);
                  } else {
                    t *= 2;
                  }
                };
                break;
              }
              [[fallthrough]];
            case 2: {
              const auto [small, big] = clashing_pair(u);
              c.operands.push_back(small);
              c.operands.push_back(big);
              c.text = "add_ of " + str(big.shape()) + " into a detached " + str(small.shape());
              c.call = [small = small, big = big] {
                xg::NoGradGuard no_grad;
                Tensor d = small.detach();
                d.add_(big);
              };
              break;
            }
            case 3: {
              const Tensor ix = xg::argmax(u);
              c.operands.push_back(ix);
              c.text = "add_(0.5) into an Int64 tensor";
              c.call = [ix] {
                Tensor t = ix;
                t.add_(0.5);
              };
              break;
            }
            default: {
              const auto [small, big] = clashing_pair(u);
              c.operands.push_back(small);
              c.operands.push_back(big);
              c.text = "copy_ of " + str(big.shape()) + " into a detached " + str(small.shape());
              c.call = [small = small, big = big] {
                xg::NoGradGuard no_grad;
                Tensor d = small.detach();
                d.copy_(big);
              };
              break;
            }
          }
          c.text += " (" + x + ")";
          return c;
        };
      }
    }
  }

  // The view ops of issue 14 with arguments that do not fit, and in-place writes through views
  // that must be refused: into an expanded view (elements that share one location) and into a
  // view of a leaf that requires grad.
  Mismatch view_mismatch(std::size_t a) {
    const std::size_t op = uniform(9);
    const std::string x = ref(a);
    return [op, a, x](const Pool& p) {
      const Tensor u = p[a];
      const std::int64_t n = u.dim();
      const std::int64_t size = n == 0 ? 0 : u.size(-1);
      BadCall c{"", Err::Invalid, {u}, nullptr};
      const std::string s = str(u.shape());
      switch (op) {
        case 0:
          if (n == 0) {
            c.text = "select of a 0-d tensor";
            c.call = [u] { (void)u.select(0, 0); };
          } else {
            c.expected = Err::OutOfRange;
            c.text = "select(" + s + ", -1, " + std::to_string(size) + ")";
            c.call = [u, size] { (void)xg::select(u, -1, size); };
          }
          break;
        case 1:
          c.text = "slice(" + s + ", 0, nullopt, nullopt, 0)";
          c.call = [u] { (void)xg::slice(u, 0, std::nullopt, std::nullopt, 0); };
          break;
        case 2:
          c.text = "split(" + s + ", " + (n == 0 ? "1" : "-1") + ")";
          c.call = [u, n] { (void)u.split(n == 0 ? 1 : -1); };
          break;
        case 3:
          c.text = "split_with_sizes(" + s + ", [" + std::to_string(size + 1) + "], -1)";
          c.call = [u, size] { (void)u.split_with_sizes({size + 1}, -1); };
          break;
        case 4:
          c.text = "chunk(" + s + ", 0)";
          c.call = [u] { (void)xg::chunk(u, 0); };
          break;
        case 5:
          c.text = "as_strided(" + s + ", [2], [1], 2^40) (out of bounds)";
          c.call = [u] { (void)u.as_strided({2}, {1}, std::int64_t{1} << 40); };
          break;
        case 6:
          if (n < 2) {
            c.text = "mT of " + s;
            c.call = [u] { (void)u.mT(); };
          } else {
            c.text = "as_strided(" + s + ", [2], [-1]) (negative stride)";
            c.call = [u] { (void)xg::as_strided(u, {2}, {-1}); };
          }
          break;
        case 7:
          if (u.requires_grad() && u.is_leaf()) {
            c.expected = Err::Runtime;
            c.text = "mul_ of a view of a leaf that requires grad";
            c.call = [u] {
              Tensor v = u.view(u.shape());
              v.mul_(2);
            };
            break;
          }
          [[fallthrough]];
        default: {
          c.expected = Err::Runtime;
          Shape big = u.shape();
          big.insert(big.begin(), 2);
          c.text = "add_ into expand(" + s + ", " + str(big) + ") (one location, two elements)";
          c.call = [u, big] {
            Tensor e = u.expand(big);
            e.add_(1);
          };
          break;
        }
      }
      c.text += " on " + x;
      return c;
    };
  }

  // Two entries of any shapes in an op that needs their shapes to fit: the call must succeed
  // with the shape a model of the op predicts, or throw std::invalid_argument when the model
  // says they do not fit. Dims are always in range, so only the shapes decide.
  Mismatch random_pairing(std::size_t a, std::size_t b) {
    const Shape sa = shape(a), sb = shape(b);
    const std::size_t op = uniform(9);
    std::optional<Shape> fits;
    std::int64_t d = 0;
    switch (op) {
      case 5:  // matmul
        fits = matmul_shape(sa, sb);
        break;
      case 6: {                 // cat along a dim in range for a
        if (sa.empty()) break;  // 0-d tensors never concatenate
        const auto ra = static_cast<std::int64_t>(sa.size());
        d = range(-ra, ra - 1);
        const std::size_t nd = static_cast<std::size_t>(d < 0 ? d + ra : d);
        if (sb.size() != sa.size()) break;
        bool same = true;
        for (std::size_t k = 0; k < sa.size(); ++k) same = same && (k == nd || sa[k] == sb[k]);
        if (!same) break;
        Shape out = sa;
        out[nd] += sb[nd];
        fits = out;
        break;
      }
      case 7: {  // stack along a new dim in range
        const auto ra = static_cast<std::int64_t>(sa.size());
        d = range(-(ra + 1), ra);
        if (sa != sb) break;
        Shape out = sa;
        out.insert(out.begin() + (d < 0 ? d + ra + 1 : d), 2);
        fits = out;
        break;
      }
      case 8:  // mse_loss: the same shape
        if (sa == sb) fits = Shape{};
        break;
      default:  // elementwise: broadcasting
        fits = broadcast(sa, sb);
        break;
    }
    static const char* kNames[] = {"add",    "mul", "maximum", "pow",     "where",
                                   "matmul", "cat", "stack",   "mse_loss"};
    const std::string text = std::string(kNames[op]) + "(" + ref(a) + " " + str(sa) + ", " +
                             ref(b) + " " + str(sb) +
                             (op == 6 || op == 7 ? ", dim " + std::to_string(d) : "") + ")";
    return [a, b, op, d, fits, text](const Pool& p) {
      const Tensor u = p[a], v = p[b];
      auto run = [u, v, op, d]() -> Tensor {
        switch (op) {
          case 0:
            return u + v;
          case 1:
            return u.mul(v);
          case 2:
            return xg::maximum(u, v);
          case 3:
            return xg::pow(xg::abs(u) + 0.5, v);
          case 4:
            return xg::where(xg::gt(u, 0.0), u, v);
          case 5:
            return xg::matmul(u, v);
          case 6:
            return xg::cat({u, v}, d);
          case 7:
            return xg::stack({u, v}, d);
          default:
            return F::mse_loss(u, v);
        }
      };
      BadCall c{text + (fits ? " (fits: " + str(*fits) + ")" : " (does not fit)"),
                Err::Invalid,
                {u, v},
                nullptr};
      if (fits) {
        c.fits = fits;
        c.fitting_call = run;
      } else {
        c.call = [run] { (void)run(); };
      }
      return c;
    };
  }

  std::mt19937_64 rng_;
  Program prog_;
  Pool pool_;  // every entry's values (Float64, not recorded)
  bool failed_ = false;
};

// ---- checks ------------------------------------------------------------------------------------

struct Snapshot {
  bool defined = false;
  Shape shape;
  Dtype dtype = xg::kFloat32;
  std::vector<double> values;
  std::uint64_t version = 0;
  bool requires_grad = false;
  bool is_leaf = false;
  std::string grad_fn;

  explicit Snapshot(const Tensor& t) : defined(t.defined()) {
    if (!defined) return;
    shape = t.shape();
    dtype = t.dtype();
    values = values_of(t);
    version = t._version();
    requires_grad = t.requires_grad();
    is_leaf = t.is_leaf();
    grad_fn = t.grad_fn_name();
  }
  bool operator==(const Snapshot& o) const {
    return defined == o.defined && shape == o.shape && dtype == o.dtype && values == o.values &&
           version == o.version && requires_grad == o.requires_grad && is_leaf == o.is_leaf &&
           grad_fn == o.grad_fn;
  }
};

// Runs a call that must fail; returns "" or what went wrong.
std::string check_bad_call(const BadCall& c) {
  std::vector<Snapshot> before;
  for (const Tensor& t : c.operands) before.emplace_back(t);
  std::string problem;
  try {
    if (c.fits) {
      const Tensor r = c.fitting_call();
      if (!r.defined() || r.shape() != *c.fits) {
        problem = "gave " + (r.defined() ? str(r.shape()) : std::string("an undefined tensor")) +
                  ", expected " + str(*c.fits);
      }
    } else {
      c.call();
      problem = "did not throw (expected " + std::string(err_name(c.expected)) + ")";
    }
  } catch (const std::invalid_argument& e) {
    if (c.expected != Err::Invalid) {
      problem = "threw std::invalid_argument (" + std::string(e.what()) + "), expected " +
                err_name(c.expected);
    }
  } catch (const std::out_of_range& e) {
    if (c.expected != Err::OutOfRange) {
      problem = "threw std::out_of_range (" + std::string(e.what()) + "), expected " +
                err_name(c.expected);
    }
  } catch (const std::runtime_error& e) {
    if (c.expected != Err::Runtime) {
      problem = "threw std::runtime_error (" + std::string(e.what()) + "), expected " +
                err_name(c.expected);
    }
  } catch (const std::exception& e) {
    problem = std::string("threw ") + typeid(e).name() + " (" + e.what() + "), expected " +
              err_name(c.expected);
  }
  for (std::size_t i = 0; i < c.operands.size(); ++i) {
    if (!(Snapshot(c.operands[i]) == before[i])) {
      problem += (problem.empty() ? "" : "; ") + std::string("operand ") + std::to_string(i) +
                 " changed (values, version, shape, dtype or autograd state)";
    }
  }
  return problem;
}

// Whether got matches the Float64 reference to Float32 accuracy; why not in *why.
bool close_to_f32(const std::vector<double>& got, const std::vector<double>& ref,
                  std::string* why) {
  if (got.size() != ref.size()) {
    *why = "sizes " + std::to_string(got.size()) + " and " + std::to_string(ref.size());
    return false;
  }
  double scale = 1;
  for (double v : ref) scale = std::max(scale, std::abs(v));
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double tol = 1e-3 * std::abs(ref[i]) + 1e-4 * scale;
    if (!(std::abs(got[i] - ref[i]) <= tol)) {
      *why = "element " + std::to_string(i) + ": " + num(got[i]) + " vs Float64 " + num(ref[i]) +
             " (tolerance " + num(tol) + ")";
      return false;
    }
  }
  return true;
}

std::vector<double> grad_values(const Tensor& g, const Shape& shape) {
  if (!g.defined()) return std::vector<double>(static_cast<std::size_t>(numel_of(shape)), 0.0);
  return values_of(g);
}

// The dtype each entry has when leaf f32_leaf is Float32 and the others Float64, and the first
// entry that would mix dtypes in matmul, mm or linear (entries.size() if none).
std::pair<std::vector<Dtype>, std::size_t> mixed_dtypes(const Program& prog, std::size_t f32_leaf) {
  std::vector<Dtype> dt;
  std::size_t conflict = prog.entries.size();
  for (std::size_t i = 0; i < prog.entries.size(); ++i) {
    const Entry& e = prog.entries[i];
    if (e.leaf) {
      dt.push_back(e.leaf_index == f32_leaf ? xg::kFloat32 : xg::kFloat64);
      continue;
    }
    bool all32 = true;
    for (auto j : e.dtype_from) all32 = all32 && dt[j] == xg::kFloat32;
    for (auto j : e.same_dtype) {
      if (dt[j] != dt[e.same_dtype.front()] && conflict == prog.entries.size()) conflict = i;
    }
    dt.push_back(all32 ? xg::kFloat32 : xg::kFloat64);
  }
  return {dt, conflict};
}

struct Stats {
  int graphs = 0;
  int gradchecked = 0;
  int float32_checked = 0;
  int mixed_checked = 0;
  int mixed_throw_checked = 0;
  int bad_calls = 0;
  std::map<std::string, int> bad_call_types;  // by the exception expected
  int failures = 0;
  std::map<std::string, int> ops;
};

constexpr int kMaxReportedFailures = 12;

void report(Stats& stats, const Program& prog, const std::string& what) {
  ++stats.failures;
  if (stats.failures <= kMaxReportedFailures) {
    ADD_FAILURE() << what << "\n" << prog.describe();
  }
}

void check_program(const Program& prog, const std::vector<Mismatch>& bad, Stats& stats);

void check_graph(std::uint64_t seed, Stats& stats, bool verbose) {
  ++stats.graphs;
  Builder builder(seed);
  const Program prog = builder.build();
  if (verbose) std::cout << prog.describe() << std::flush;
  if (builder.failed()) {
    ++stats.failures;
    return;
  }
  const std::vector<Mismatch> bad = builder.mismatches(seed % 3 == 0 ? 2 : 0);
  try {
    check_program(prog, bad, stats);
  } catch (const std::exception& e) {
    report(stats, prog, std::string("unexpected exception: ") + e.what());
  }
}

void check_program(const Program& prog, const std::vector<Mismatch>& bad, Stats& stats) {
  const std::uint64_t seed = prog.seed;
  const std::vector<std::size_t> rg = prog.grad_leaves();
  auto fn = [&prog](const std::vector<Tensor>& in) { return prog.run(in).back(); };

  // 1. gradcheck in Float64
  try {
    const auto result = xg::autograd::gradcheck(fn, prog.make_leaves(xg::kFloat64));
    ++stats.gradchecked;
    for (const auto& op : prog.ops) ++stats.ops[op];
    if (!result.ok) {
      report(stats, prog, "gradcheck failed: " + result.message);
      return;
    }
  } catch (const std::exception& e) {
    report(stats, prog, std::string("gradcheck threw: ") + e.what());
    return;
  }

  // 2. the Float64 reference: a vector-Jacobian product with fixed weights
  const std::vector<Tensor> leaves64 = prog.make_leaves(xg::kFloat64);
  std::vector<Tensor> wrt64;
  for (auto i : rg) wrt64.push_back(leaves64[i]);
  const Pool pool64 = prog.run(leaves64);
  const Tensor out64 = pool64.back();
  const std::vector<double> out64_values = values_of(out64);
  const Tensor w64 = xg::tensor(prog.out_weights, prog.out_shape, xg::kFloat64);
  std::vector<std::vector<double>> ref;
  {
    const auto g = xg::autograd::grad({out64}, wrt64, {w64}, true, false, true);
    for (std::size_t k = 0; k < rg.size(); ++k) {
      if (g[k].defined() && (g[k].dtype() != xg::kFloat64 || g[k].shape() != wrt64[k].shape())) {
        report(stats, prog,
               "the Float64 gradient of leaf " + std::to_string(rg[k]) + " is " +
                   std::string(xg::dtype_name(g[k].dtype())) + " " + str(g[k].shape()));
      }
      ref.push_back(grad_values(g[k], prog.leaves[rg[k]].shape));
    }
  }

  // 3. ops that do not fit, on the recorded graph; then the same gradients again
  for (const Mismatch& m : bad) {
    BadCall c;
    try {
      c = m(pool64);
    } catch (const std::exception& e) {
      report(stats, prog, std::string("setting up a bad call threw: ") + e.what());
      continue;
    }
    ++stats.bad_calls;
    ++stats.bad_call_types[c.fits ? "fits" : err_name(c.expected)];
    const std::string problem = check_bad_call(c);
    if (!problem.empty()) report(stats, prog, "bad call " + c.text + ": " + problem);
  }
  if (!bad.empty()) {
    const auto g = xg::autograd::grad({out64}, wrt64, {w64}, std::nullopt, false, true);
    for (std::size_t k = 0; k < rg.size(); ++k) {
      if (grad_values(g[k], prog.leaves[rg[k]].shape) != ref[k]) {
        report(stats, prog,
               "the gradient of leaf " + std::to_string(rg[k]) + " changed after the failed calls");
      }
    }
  }

  // 4. the same graph in Float32
  {
    const std::vector<Tensor> leaves32 = prog.make_leaves(xg::kFloat32);
    Tensor out32;
    try {
      out32 = prog.run(leaves32).back();
      out32.backward(xg::tensor(prog.out_weights, prog.out_shape, xg::kFloat32));
    } catch (const std::exception& e) {
      report(stats, prog, std::string("the Float32 run threw: ") + e.what());
      return;
    }
    std::string why;
    if (out32.dtype() != xg::kFloat32 || out32.shape() != prog.out_shape) {
      report(stats, prog,
             "the Float32 output is " + std::string(xg::dtype_name(out32.dtype())) + " " +
                 str(out32.shape()));
    } else if (!close_to_f32(values_of(out32), out64_values, &why)) {
      report(stats, prog, "the Float32 output differs: " + why);
    }
    for (std::size_t k = 0; k < rg.size(); ++k) {
      const Tensor& leaf = leaves32[rg[k]];
      const Tensor g = leaf.grad();
      if (g.defined() && (g.dtype() != xg::kFloat32 || g.shape() != leaf.shape())) {
        report(stats, prog,
               "the Float32 gradient of leaf " + std::to_string(rg[k]) + " is " +
                   std::string(xg::dtype_name(g.dtype())) + " " + str(g.shape()));
      } else if (!close_to_f32(grad_values(g, leaf.shape()), ref[k], &why)) {
        report(stats, prog,
               "the Float32 gradient of leaf " + std::to_string(rg[k]) + " differs: " + why);
      }
    }
    ++stats.float32_checked;
  }

  // 5. one leaf in Float32, the others in Float64
  {
    std::vector<std::size_t> order = rg;
    std::mt19937_64 pick_rng(seed);
    std::shuffle(order.begin(), order.end(), pick_rng);
    std::size_t chosen = order.front();
    auto [dtypes, conflict] = mixed_dtypes(prog, chosen);
    for (std::size_t i : order) {
      auto [d, c] = mixed_dtypes(prog, i);
      if (c == prog.entries.size()) {
        chosen = i;
        dtypes = d;
        conflict = c;
        break;
      }
    }
    const std::vector<Tensor> leaves = prog.make_leaves(xg::kFloat64, chosen);
    if (conflict < prog.entries.size()) {
      // matmul, mm or linear meets Float32 and Float64 operands: the run must throw
      try {
        (void)prog.run(leaves);
        report(stats, prog,
               "the run with leaf " + std::to_string(chosen) +
                   " in Float32 did not throw at the mixed-dtype step #" +
                   std::to_string(conflict));
      } catch (const std::invalid_argument& e) {
        // the message names both dtypes
        const std::string what = e.what();
        if (what.find("Float32") == std::string::npos ||
            what.find("Float64") == std::string::npos) {
          report(stats, prog, "the mixed-dtype error does not name both dtypes: " + what);
        }
        ++stats.mixed_throw_checked;
      } catch (const std::exception& e) {
        report(stats, prog, std::string("the mixed-dtype run threw the wrong type: ") + e.what());
      }
      return;
    }
    Tensor out;
    try {
      out = prog.run(leaves).back();
      const Tensor w = xg::tensor(prog.out_weights, prog.out_shape, out.dtype());
      out.backward(w);
    } catch (const std::exception& e) {
      report(stats, prog,
             "the run with leaf " + std::to_string(chosen) + " in Float32 threw: " + e.what());
      return;
    }
    std::string why;
    if (out.dtype() != dtypes.back() || out.shape() != prog.out_shape) {
      report(stats, prog,
             "with leaf " + std::to_string(chosen) + " in Float32 the output is " +
                 std::string(xg::dtype_name(out.dtype())) + " " + str(out.shape()) + ", expected " +
                 std::string(xg::dtype_name(dtypes.back())));
    } else if (!close_to_f32(values_of(out), out64_values, &why)) {
      report(stats, prog,
             "with leaf " + std::to_string(chosen) + " in Float32 the output differs: " + why);
    }
    for (std::size_t k = 0; k < rg.size(); ++k) {
      const Tensor& leaf = leaves[rg[k]];
      const Tensor g = leaf.grad();
      if (g.defined() && (g.dtype() != leaf.dtype() || g.shape() != leaf.shape())) {
        report(stats, prog,
               "with leaf " + std::to_string(chosen) + " in Float32, the gradient of leaf " +
                   std::to_string(rg[k]) + " (" + std::string(xg::dtype_name(leaf.dtype())) +
                   ") is " + std::string(xg::dtype_name(g.dtype())) + " " + str(g.shape()));
      } else if (!close_to_f32(grad_values(g, leaf.shape()), ref[k], &why)) {
        report(stats, prog,
               "with leaf " + std::to_string(chosen) + " in Float32, the gradient of leaf " +
                   std::to_string(rg[k]) + " differs: " + why);
      }
    }
    ++stats.mixed_checked;
  }
}

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  if (!v || !*v) return fallback;
  return std::atoi(v);
}

TEST(RandomGraphs, GradcheckSeededGraphsOverEveryDifferentiableOp) {
  const int count = env_int("XGRAD_RANDOM_GRAPHS", kDefaultGraphs);
  const int first = env_int("XGRAD_RANDOM_GRAPHS_FIRST", 0);
  Stats stats;
  const auto start = std::chrono::steady_clock::now();
  const bool verbose = env_int("XGRAD_RANDOM_GRAPHS_VERBOSE", 0) != 0;  // print every graph
  for (int g = 0; g < count; ++g) {
    check_graph(static_cast<std::uint64_t>(first + g), stats, verbose);
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::cout << "[ RandomGraphs ] " << stats.gradchecked << " of " << stats.graphs
            << " graphs gradchecked in Float64 (seeds " << first << ".." << first + count - 1
            << "), " << stats.float32_checked << " rerun in Float32, " << stats.mixed_checked
            << " with one Float32 leaf, " << stats.mixed_throw_checked
            << " mixed-dtype matmul/linear throws, " << stats.bad_calls
            << " calls on shapes and dtypes that may not fit (";
  for (const auto& [type, n] : stats.bad_call_types) std::cout << " " << type << "=" << n;
  std::cout << " ); " << stats.failures << " failures; " << seconds << " s\n";
  std::cout << "[ RandomGraphs ] ops:";
  for (const auto& [op, n] : stats.ops) std::cout << " " << op << "=" << n;
  std::cout << "\n";
  RecordProperty("graphs_gradchecked", stats.gradchecked);
  RecordProperty("bad_calls_checked", stats.bad_calls);

  EXPECT_EQ(stats.failures, 0) << "(only the first " << kMaxReportedFailures << " are shown)";
  EXPECT_EQ(stats.gradchecked, count);
  if (count >= kDefaultGraphs) {
    // every differentiable op was in some gradchecked graph
    static const std::vector<std::string> kEveryOp = {"add",
                                                      "sub",
                                                      "mul",
                                                      "div",
                                                      "scalar_arith",
                                                      "neg",
                                                      "pow_scalar",
                                                      "pow_tensor",
                                                      "pow_scalar_base",
                                                      "clamp",
                                                      "clamp_min",
                                                      "clamp_max",
                                                      "maximum",
                                                      "minimum",
                                                      "where",
                                                      "clone",
                                                      "to",
                                                      "dropout",
                                                      "sum",
                                                      "mean",
                                                      "max",
                                                      "min",
                                                      "amax",
                                                      "amin",
                                                      "logsumexp",
                                                      "softmax",
                                                      "log_softmax",
                                                      "matmul",
                                                      "mm",
                                                      "t",
                                                      "linear",
                                                      "reshape",
                                                      "view",
                                                      "flatten",
                                                      "squeeze",
                                                      "unsqueeze",
                                                      "transpose",
                                                      "permute",
                                                      "expand",
                                                      "cat",
                                                      "stack",
                                                      "narrow",
                                                      "index_select",
                                                      "argmax",
                                                      "argmin",
                                                      "mse_loss",
                                                      "l1_loss",
                                                      "nll_loss",
                                                      "cross_entropy",
                                                      "binary_cross_entropy_with_logits",
                                                      "select",
                                                      "slice",
                                                      "split",
                                                      "split_with_sizes",
                                                      "chunk",
                                                      "unbind",
                                                      "as_strided",
                                                      "mT",
                                                      "expand_as",
                                                      "contiguous",
                                                      "inplace",
                                                      "inplace (older view)",
                                                      "add_",
                                                      "sub_",
                                                      "mul_",
                                                      "div_",
                                                      "copy_",
                                                      "fill_",
                                                      "zero_",
                                                      "add_ (view)",
                                                      "sub_ (view)",
                                                      "mul_ (view)",
                                                      "div_ (view)",
                                                      "copy_ (view)",
                                                      "fill_ (view)",
                                                      "zero_ (view)"};
    std::vector<std::string> every_op = kEveryOp;
    for (const auto& name : xg_test::registry_unary_names()) every_op.push_back(name);
    for (const auto& op : every_op) EXPECT_GT(stats.ops[op], 0) << op << " was never used";
    EXPECT_GT(stats.mixed_checked, 0);
    EXPECT_GT(stats.mixed_throw_checked, 0);
    EXPECT_GT(stats.bad_calls, 0);
  }
}

}  // namespace
