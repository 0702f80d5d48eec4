// The random-graph builder: helpers, the program, and the Builder's randomness, pool, domains,
// step mix and output (the op table is in ops.cpp and view_ops.cpp, the calls that do not fit in
// bad_calls.cpp). See builder.hpp.
#include "builder.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>
#include <xgrad/xgrad.hpp>

namespace xg_test::random_graphs {

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

Tensor konst(const std::vector<double>& v, const Shape& shape, const Tensor& like) {
  return xg::tensor(v, shape, like.dtype());
}

// ---- the program -------------------------------------------------------------------------------

std::vector<Tensor> Program::make_leaves(Dtype dtype, std::optional<std::size_t> f32_leaf) const {
  std::vector<Tensor> out;
  for (std::size_t i = 0; i < leaves.size(); ++i) {
    const Dtype d = f32_leaf && *f32_leaf == i ? xg::kFloat32 : dtype;
    Tensor t = xg::tensor(leaves[i].values, leaves[i].shape, d);
    if (leaves[i].requires_grad) t.requires_grad_();
    out.push_back(t);
  }
  return out;
}

Pool Program::run(const std::vector<Tensor>& leaf_tensors) const {
  Pool pool;
  pool.reserve(entries.size());
  for (const Entry& e : entries) {
    pool.push_back(e.leaf ? leaf_tensors[e.leaf_index] : e.fn(pool));
  }
  return pool;
}

std::vector<std::size_t> Program::grad_leaves() const {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < leaves.size(); ++i) {
    if (leaves[i].requires_grad) out.push_back(i);
  }
  return out;
}

std::string Program::describe() const {
  std::ostringstream os;
  os << "graph seed " << seed << " (rerun alone: XGRAD_RANDOM_GRAPHS_FIRST=" << seed
     << " XGRAD_RANDOM_GRAPHS=1):\n";
  for (const Entry& e : entries) os << "    " << e.text << "\n";
  return os.str();
}

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

// ---- the builder -------------------------------------------------------------------------------

Program Builder::build() {
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

std::vector<Mismatch> Builder::mismatches(std::size_t count) {
  std::vector<Mismatch> out;
  for (std::size_t i = 0; i < count; ++i) out.push_back(random_mismatch());
  return out;
}

std::vector<double> Builder::normals(std::int64_t n, double scale) {
  std::vector<double> v;
  for (std::int64_t i = 0; i < n; ++i) v.push_back(scale * normal());
  return v;
}

std::int64_t Builder::leaf_elements() const {
  std::int64_t n = 0;
  for (const Leaf& l : prog_.leaves) n += numel_of(l.shape);
  return n;
}

std::size_t Builder::add_leaf(const Shape& s, bool requires_grad) {
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
std::optional<std::size_t> Builder::fresh_leaf(const Shape& s) {
  if (leaf_elements() + numel_of(s) > kMaxLeafElements) return std::nullopt;
  return add_leaf(s, chance(0.8));
}

// An operand: one of the two newest entries half the time (chains), else any (reuse).
std::size_t Builder::pick() {
  if (pool_.size() > 1 && chance(0.5)) return pool_.size() - 1 - uniform(2);
  return uniform(pool_.size());
}

// An entry satisfying `ok`, preferring newer ones; nullopt if none.
std::optional<std::size_t> Builder::pick_where(const std::function<bool(std::size_t)>& ok) {
  std::vector<std::size_t> c;
  for (std::size_t i = 0; i < pool_.size(); ++i) {
    if (ok(i)) c.push_back(i);
  }
  if (c.empty()) return std::nullopt;
  if (c.size() > 1 && chance(0.4)) return c.back();
  return one_of(c);
}

Tensor Builder::eval(const Unary& f, const Tensor& x) {
  xg::NoGradGuard no_grad;
  return f(x);
}

// Adds a step computing `fn`; runs it on the pool. False (nothing added) when the result is
// too large; a failure when a step meant to be valid throws or gives non-finite values.
bool Builder::push(const std::string& op, const std::string& text, std::vector<std::size_t> reads,
                   StepFn fn, std::vector<std::size_t> dtype_from,
                   std::vector<std::size_t> same_dtype) {
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

void Builder::fail(const std::string& why) {
  failed_ = true;
  std::ostringstream values;
  for (std::size_t i = 0; i < pool_.size(); ++i) {
    values << "    " << ref(i) << " =";
    for (double v : values_of(pool_[i])) values << " " << v;
    values << "\n";
  }
  ADD_FAILURE() << why << "\n" << prog_.describe() << "  values:\n" << values.str();
}

// A point at least `margin` from every value: 0 when it is, else a random one between two
// values or beyond them.
double Builder::safe_point(std::vector<double> v, double margin, bool prefer_zero) {
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

Prep Builder::shift(double c) {
  if (c == 0) return {};
  return {"(% - " + num(c) + ")", [c](const Tensor& x) { return x - c; }};
}

// Moves entry a into `dom`.
Prep Builder::prep(std::size_t a, Dom dom) {
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
Prep Builder::positive(std::size_t a) {
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
std::optional<Prep> Builder::untied(std::size_t a, const Shape& dims, bool is_max) {
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
Shape Builder::random_dims(std::int64_t r) {
  if (r == 0) return one_of(std::vector<Shape>{{}, {0}, {-1}});
  Shape dims;
  for (std::int64_t d = 0; d < r; ++d) {
    if (chance(0.5)) dims.push_back(chance(0.5) ? d - r : d);
  }
  std::shuffle(dims.begin(), dims.end(), rng_);
  return dims;
}

std::int64_t Builder::random_dim(std::int64_t r) {  // a dim of a rank-r tensor (0-d: 0 or -1)
  const std::int64_t n = std::max<std::int64_t>(r, 1);
  return range(-n, n - 1);
}

bool Builder::add_random_step() {
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

// A random shape with n elements and at most 3 dims ({} for n == 1 sometimes), one dim
// possibly -1.
Shape Builder::random_shape_with_numel(std::int64_t n) {
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

// The output: the newest entry plus a small multiple of the mean of every entry nothing read
// (so every leaf reaches it), reduced to a scalar half the time.
void Builder::add_output() {
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
    text += " + " + num(0.1 * static_cast<double>(1 + k % 3)) + " * " + ref(others[k]) + ".mean()";
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

}  // namespace xg_test::random_graphs
