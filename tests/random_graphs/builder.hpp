// The random-graph harness (tests/test_random_graphs.cpp) in its parts: this header declares the
// program a graph is (leaves, then steps over a pool of entries), the calls that must fail, and
// the Builder that draws a program from a seed. The Builder's members are defined by part:
//   builder.cpp    the randomness, the pool, the domains, the step mix and the output;
//   ops.cpp        the op table: unary (every registry op), scalar, binary, where, reductions,
//                  softmax, linear algebra, stack, index_select and the losses;
//   view_ops.cpp   shape ops, view ops and in-place steps;
//   bad_calls.cpp  the calls that do not fit (the checks' step 3).
// test_random_graphs.cpp holds the checks and the test.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>
#include <xgrad/xgrad.hpp>

namespace xg_test::random_graphs {

using xg::Dtype;
using xg::Shape;
using xg::Tensor;
namespace F = xg::nn::functional;
using Pool = std::vector<Tensor>;
using StepFn = std::function<Tensor(const Pool&)>;
using Unary = std::function<Tensor(const Tensor&)>;

inline constexpr double kMargin = 0.02;        // distance kept from kinks, ties and domain edges
inline constexpr double kBound = 4.0;          // entries larger than this are soft-bounded
inline constexpr std::int64_t kMaxNumel = 36;  // no entry grows past this
inline constexpr std::int64_t kMaxRank = 4;
inline constexpr std::int64_t kMaxLeafElements = 60;  // fresh weight/target leaves stop here

// ---- helpers (builder.cpp) ---------------------------------------------------------------------

std::vector<double> values_of(const Tensor& t);
std::string str(const Shape& s);
std::string num(double v);
std::int64_t numel_of(const Shape& s);
// The broadcast shape of a and b, or nullopt when they do not broadcast.
std::optional<Shape> broadcast(Shape a, Shape b);
// torch.matmul's result shape, or nullopt when the shapes do not multiply.
std::optional<Shape> matmul_shape(const Shape& a, const Shape& b);
// The smallest distance, over the groups a reduction over `dims` forms (every dim when dims is
// empty), between each group's largest (or smallest) element and its runner-up; infinity when
// every group has one element.
double extreme_gap(const Tensor& t, const Shape& dims, bool is_max);
Tensor soft_bound(const Tensor& t);
// A constant of the given values, in the dtype of `like` (so constants never promote).
Tensor konst(const std::vector<double>& v, const Shape& shape, const Tensor& like);

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
  std::vector<Tensor> make_leaves(Dtype dtype, std::optional<std::size_t> f32_leaf = {}) const;
  // Every entry's value, the leaves given.
  Pool run(const std::vector<Tensor>& leaf_tensors) const;
  std::vector<std::size_t> grad_leaves() const;
  std::string describe() const;
};

// ---- ops that must fail ------------------------------------------------------------------------

enum class Err { Invalid, OutOfRange, Runtime };

const char* err_name(Err e);

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

  Program build();
  bool failed() const { return failed_; }
  // `count` ops that do not fit, on entries of the graph just built.
  std::vector<Mismatch> mismatches(std::size_t count);

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
  std::vector<double> normals(std::int64_t n, double scale = 1.0);
  // A deterministic coin from a value: picks the free function or the method.
  static bool chance_bit(double v) { return std::fmod(std::abs(v) * 1000, 2.0) < 1.0; }

  // ---- the pool (builder.cpp) ----
  const Tensor& at(std::size_t i) const { return pool_[i]; }
  Shape shape(std::size_t i) const { return pool_[i].shape(); }
  std::int64_t rank(std::size_t i) const { return pool_[i].dim(); }
  static std::string ref(std::size_t i) {
    std::string s = "#";
    s += std::to_string(i);
    return s;
  }
  std::int64_t leaf_elements() const;
  std::size_t add_leaf(const Shape& s, bool requires_grad);
  std::optional<std::size_t> fresh_leaf(const Shape& s);
  std::size_t pick();
  std::optional<std::size_t> pick_where(const std::function<bool(std::size_t)>& ok);
  static Tensor eval(const Unary& f, const Tensor& x);
  bool push(const std::string& op, const std::string& text, std::vector<std::size_t> reads,
            StepFn fn, std::vector<std::size_t> dtype_from = {},
            std::vector<std::size_t> same_dtype = {});
  void fail(const std::string& why);

  // ---- domains (builder.cpp) ----
  double safe_point(std::vector<double> v, double margin, bool prefer_zero = true);
  Prep shift(double c);
  Prep prep(std::size_t a, Dom dom);
  Prep positive(std::size_t a);
  std::optional<Prep> untied(std::size_t a, const Shape& dims, bool is_max);
  Shape random_dims(std::int64_t r);
  std::int64_t random_dim(std::int64_t r);
  Shape random_shape_with_numel(std::int64_t n);

  // ---- steps (the mix and the output: builder.cpp) ----
  bool add_random_step();
  void add_output();

  // ---- the op table (ops.cpp) ----
  bool add_unary(std::size_t a);
  bool add_clamp(std::size_t a);
  bool add_scalar_arith(std::size_t a);
  std::size_t partner(std::size_t a);
  bool add_binary(std::size_t a);
  bool add_table_binary(std::size_t a, std::size_t b);
  bool add_where(std::size_t a, std::size_t b);
  bool add_reduction(std::size_t a);
  bool add_softmax(std::size_t a);
  bool add_linalg(std::size_t a);
  bool add_matmul(std::size_t a);
  bool add_mm(std::size_t a);
  bool add_linear(std::size_t a);
  bool add_stack(std::size_t a);
  bool add_index_select(std::size_t a);
  bool add_loss(std::size_t a);

  // ---- shape ops, views and in-place changes (view_ops.cpp) ----

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

  // One in-place change inside an in-place step.
  struct Change {
    std::string op;  // "add_", ... for the coverage count
    std::string text;
    std::function<void(const Pool&, const Tensor& base)> apply;
  };

  bool add_shape_op(std::size_t a);
  static Tensor apply_chain(const std::vector<ViewOp>& chain, Tensor t);
  static std::string chain_text(const std::vector<ViewOp>& chain, std::string operand);
  std::optional<ViewOp> random_view(const Tensor& t, int kind, bool as_strided_ok);
  bool add_view_op(std::size_t a, int kind);
  bool add_inplace(std::size_t a);

  // ---- ops that do not fit (bad_calls.cpp) ----
  static std::pair<Tensor, Tensor> clashing_pair(const Tensor& x);
  Mismatch random_mismatch();
  Mismatch view_mismatch(std::size_t a);
  Mismatch random_pairing(std::size_t a, std::size_t b);

  std::mt19937_64 rng_;
  Program prog_;
  Pool pool_;  // every entry's values (Float64, not recorded)
  bool failed_ = false;
};

}  // namespace xg_test::random_graphs
