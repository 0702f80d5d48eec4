// Tensor::index, LibTorch's torch::indexing (autograd/indexing.hpp).
//
// 1. A table of PyTorch results for x[...] (tests/reference/index_reference.inc, made by
//    tests/reference/make_index_reference.py): sizes, strides, storage offset, view or copy,
//    values, the input after a write through the result, and the input's gradient; the errors
//    xgrad raises where PyTorch refuses, and where xgrad refuses what PyTorch accepts (the
//    documented limitations). Every accepted case is also gradchecked.
// 2. Hand-computed checks: the initializer-list syntax, other dtypes, the index tensors left
//    unchanged, x[...] as a new view, and the errors raised outside the table.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <variant>
#include <vector>
#include <xgrad/xgrad.hpp>

namespace {

using xg::Shape;
using xg::Tensor;
using xg::indexing::Ellipsis;
using xg::indexing::None;
using xg::indexing::Slice;
using xg::indexing::TensorIndex;

constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::min();  // the table's None

std::vector<double> values(const Tensor& t) {  // row-major, through to_xarray
  const xt::xarray<double> a = t.to_xarray<double>();
  return std::vector<double>(a.begin(), a.end());
}

Tensor f64(const std::vector<double>& v, const Shape& shape) {
  return xg::tensor(v, shape, xg::kFloat64);
}

// Calls f, which must throw exactly E whose message contains every part.
template <class E, class F>
void expect_throw(F&& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "did not throw";
  } catch (const std::exception& e) {
    EXPECT_EQ(typeid(e), typeid(E)) << "threw another type: " << e.what();
    for (const std::string& p : parts) {
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos)
          << "message lacks \"" << p << "\": " << e.what();
    }
  }
}

// ---- 1. the PyTorch reference table -----------------------------------------------------------

struct RawEntry {
  const char* kind;
  std::initializer_list<double> args;  // integers, or the values of a tensor index
  std::initializer_list<std::int64_t> shape;
};

struct RawInput {
  std::initializer_list<std::int64_t> shape;
  std::initializer_list<double> values;
};

struct RawIndexCase {
  const char* name;
  RawInput input;
  std::initializer_list<RawEntry> index;
  const char* error_type;  // "" when PyTorch gives a result
  std::initializer_list<const char*> error;
  std::initializer_list<std::int64_t> sizes;
  std::initializer_list<std::int64_t> strides;
  std::int64_t storage_offset;
  bool is_view;
  std::initializer_list<double> values;
  std::initializer_list<double> input_after_add;
  std::initializer_list<double> grad;
};

constexpr RawIndexCase kRawIndexCases[] = {
#include "reference/index_reference.inc"
};

std::optional<std::int64_t> opt(double v) {
  if (v == static_cast<double>(kNone)) return std::nullopt;
  return static_cast<std::int64_t>(v);
}

TensorIndex make_entry(const RawEntry& e) {
  const std::string kind = e.kind;
  const std::vector<double> a(e.args);
  const Shape shape(e.shape);
  if (kind == "int") return static_cast<std::int64_t>(a.at(0));
  if (kind == "slice") return Slice(opt(a.at(0)), opt(a.at(1)), opt(a.at(2)));
  if (kind == "None") return None;
  if (kind == "Ellipsis") return Ellipsis;
  if (kind == "...") return "...";
  if (kind == "bool") return a.at(0) != 0;
  if (kind == "long") return xg::tensor(a, shape, xg::kInt64);
  if (kind == "bool_t") return xg::tensor(a, shape, xg::kBool);
  if (kind == "double") return xg::tensor(a, shape, xg::kFloat64);
  throw std::logic_error("make_entry: unknown kind " + kind);
}

std::vector<TensorIndex> make_index(const RawIndexCase& c) {
  std::vector<TensorIndex> out;
  for (const RawEntry& e : c.index) out.push_back(make_entry(e));
  return out;
}

Tensor make_input(const RawIndexCase& c) {
  return f64(std::vector<double>(c.input.values), Shape(c.input.shape));
}

bool is_error(const RawIndexCase& c) { return std::string(c.error_type).size() > 0; }

// The positions in the table of the cases PyTorch gives a result for (errors == false) or of
// those xgrad refuses (errors == true).
std::vector<std::size_t> case_positions(bool errors) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < std::size(kRawIndexCases); ++i) {
    if (is_error(kRawIndexCases[i]) == errors) out.push_back(i);
  }
  return out;
}

class IndexReference : public ::testing::TestWithParam<std::size_t> {
 protected:
  const RawIndexCase& c() const { return kRawIndexCases[GetParam()]; }
};

TEST_P(IndexReference, MatchesPyTorch) {
  const RawIndexCase& c = this->c();
  const Tensor input = make_input(c);
  const auto version = input._version();
  const std::vector<TensorIndex> index = make_index(c);
  Tensor out;
  ASSERT_NO_THROW(out = input.index(index));
  EXPECT_EQ(out.sizes(), Shape(c.sizes));
  // An empty copy's strides differ: xgrad's fresh arrays count a size-0 dim as 0 for the
  // strides before it ([3, 0, 4]: 0, 4, 1), PyTorch's as 1 (4, 4, 1); no element is reachable.
  if (c.is_view || out.numel() > 0) {
    EXPECT_EQ(out.stride(), Shape(c.strides));
  }
  EXPECT_EQ(out.dtype(), xg::kFloat64);
  EXPECT_EQ(values(out), std::vector<double>(c.values));
  EXPECT_EQ(out.is_alias_of(input), c.is_view);
  EXPECT_EQ(input.is_alias_of(out), c.is_view);
  if (c.is_view) {
    EXPECT_EQ(out.storage_offset(), c.storage_offset);
  }
  EXPECT_EQ(values(input), std::vector<double>(c.input.values));  // indexing changes nothing
  EXPECT_EQ(input._version(), version);
  std::size_t k = 0;  // nor the index tensors (negative entries are wrapped in a copy)
  for (const RawEntry& e : c.index) {
    if (const Tensor* t = std::get_if<Tensor>(&index.at(k++).value())) {
      EXPECT_EQ(values(*t), std::vector<double>(e.args)) << "index tensor " << k - 1;
      EXPECT_EQ(t->_version(), 0);
    }
  }
}

// out.add_(100) reaches the input exactly where PyTorch's does: through a view, never a copy.
TEST_P(IndexReference, WritesReachTheInputThroughViewsOnly) {
  const RawIndexCase& c = this->c();
  const Tensor input = make_input(c);
  const auto version = input._version();
  Tensor out = input.index(make_index(c));
  out.add_(100);
  EXPECT_EQ(values(input), std::vector<double>(c.input_after_add));
  EXPECT_EQ(input._version(), c.is_view ? version + 1 : version);
}

// The input's gradient of (out * w).sum(), w = 1, 2, ... in row-major order, as PyTorch's.
TEST_P(IndexReference, GradientMatchesPyTorch) {
  const RawIndexCase& c = this->c();
  const Tensor input = make_input(c).requires_grad_();
  const Tensor out = input.index(make_index(c));
  const Tensor w = xg::arange(1, out.numel() + 1, 1, xg::kFloat64).reshape(out.sizes());
  (out * w).sum().backward();
  ASSERT_TRUE(input.grad().defined());
  EXPECT_EQ(values(input.grad()), std::vector<double>(c.grad));
}

TEST_P(IndexReference, Gradcheck) {
  const RawIndexCase& c = this->c();
  const std::vector<TensorIndex> index = make_index(c);
  xg::manual_seed(3000 + GetParam());
  const Tensor x = xg::randn(Shape(c.input.shape), xg::kFloat64).requires_grad_();
  const auto report = xg::autograd::gradcheck(
      [&](const std::vector<Tensor>& in) { return in[0].index(index); }, {x});
  EXPECT_TRUE(report.ok) << report.message;
}

// Where PyTorch refuses (error_*) and where xgrad refuses what PyTorch takes (unsupported_*):
// the exact exception type and the message parts, and nothing changed.
class IndexReferenceError : public ::testing::TestWithParam<std::size_t> {};

TEST_P(IndexReferenceError, Throws) {
  const RawIndexCase& c = kRawIndexCases[GetParam()];
  const Tensor input = make_input(c);
  const auto version = input._version();
  const std::vector<TensorIndex> index = make_index(c);
  const std::vector<std::string> parts(c.error.begin(), c.error.end());
  const auto call = [&] { (void)input.index(index); };
  if (std::string(c.error_type) == "std::out_of_range") {
    expect_throw<std::out_of_range>(call, parts);
  } else {
    ASSERT_EQ(std::string(c.error_type), "std::invalid_argument");
    expect_throw<std::invalid_argument>(call, parts);
  }
  EXPECT_EQ(values(input), std::vector<double>(c.input.values));
  EXPECT_EQ(input._version(), version);
  std::size_t k = 0;
  for (const RawEntry& e : c.index) {
    if (const Tensor* t = std::get_if<Tensor>(&index.at(k++).value())) {
      EXPECT_EQ(values(*t), std::vector<double>(e.args)) << "index tensor " << k - 1;
    }
  }
}

std::string index_case_name(const ::testing::TestParamInfo<std::size_t>& info) {
  return kRawIndexCases[info.param].name;
}

INSTANTIATE_TEST_SUITE_P(Table, IndexReference, ::testing::ValuesIn(case_positions(false)),
                         index_case_name);
INSTANTIATE_TEST_SUITE_P(Table, IndexReferenceError, ::testing::ValuesIn(case_positions(true)),
                         index_case_name);

// The table holds every kind of entry and every error the op raises.
TEST(IndexReferenceTable, CoversEveryKindAndError) {
  std::vector<std::string> kinds, errors;
  for (const RawIndexCase& c : kRawIndexCases) {
    for (const RawEntry& e : c.index) kinds.emplace_back(e.kind);
    for (const char* p : c.error) errors.emplace_back(p);
  }
  const auto has = [](const std::vector<std::string>& v, const std::string& s) {
    return std::find(v.begin(), v.end(), s) != v.end();
  };
  for (const char* k :
       {"int", "slice", "None", "Ellipsis", "...", "bool", "long", "bool_t", "double"}) {
    EXPECT_TRUE(has(kinds, k)) << k;
  }
  for (const char* e :
       {"index: too many indices for tensor", "index: index ", "index: slice step must be positive",
        "index: an index can only have a single ellipsis", "index: a Bool mask",
        "index: a tensor index must be Int64 or Bool", "index: one tensor index at most",
        "index: an Int64 tensor index must be 0-d or 1-D"}) {
    EXPECT_TRUE(has(errors, e)) << e;
  }
}

// ---- 2. hand-computed checks ------------------------------------------------------------------

// x = [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
Tensor x34() { return xg::arange(0, 12, 1, xg::kFloat32).reshape({3, 4}); }

TEST(Index, InitializerListSyntax) {
  const Tensor x = x34();
  EXPECT_EQ(values(x.index({Slice(), -1})), (std::vector<double>{3, 7, 11}));
  EXPECT_EQ(values(x.index({1})), (std::vector<double>{4, 5, 6, 7}));
  EXPECT_EQ(values(x.index({-1, Slice(None, None, 2)})), (std::vector<double>{8, 10}));
  EXPECT_EQ(values(x.index({Slice(1), Slice(None, -2)})), (std::vector<double>{4, 5, 8, 9}));
  EXPECT_EQ(x.index({None, "...", None}).sizes(), (Shape{1, 3, 4, 1}));
  EXPECT_EQ(values(x.index({Ellipsis, 2})), (std::vector<double>{2, 6, 10}));
  EXPECT_EQ(x.index({true}).sizes(), (Shape{1, 3, 4}));
  EXPECT_EQ(x.index({Slice(), false}).sizes(), (Shape{3, 0, 4}));
  EXPECT_EQ(values(x.index({xg::tensor({2, -3}, xg::kInt64), 0})), (std::vector<double>{8, 0}));
  EXPECT_EQ(values(x.index({xg::scalar_tensor(1, xg::kInt64), 3})), (std::vector<double>{7}));
  EXPECT_EQ(values(x.index({xg::gt(x, 8.5)})), (std::vector<double>{9, 10, 11}));
  const std::int64_t i = 2;  // an int64_t variable as well as int literals
  EXPECT_EQ(values(x.index({i, i})), (std::vector<double>{10}));
  EXPECT_EQ(x.index({i, i}).dim(), 0);
}

TEST(Index, KeepsTheDtypeOfInt64AndBoolTensors) {
  const Tensor n = xg::arange(0, 12, 1, xg::kInt64).reshape({3, 4});
  const Tensor a = n.index({Slice(), xg::tensor({3, 1}, xg::kInt64)});
  EXPECT_EQ(a.dtype(), xg::kInt64);
  EXPECT_EQ(values(a), (std::vector<double>{3, 1, 7, 5, 11, 9}));
  const Tensor b = n.index({Slice(1, None), None, -1});
  EXPECT_EQ(b.dtype(), xg::kInt64);
  EXPECT_EQ(b.sizes(), (Shape{2, 1}));
  EXPECT_EQ(values(b), (std::vector<double>{7, 11}));
  const Tensor m = xg::tensor({1, 0, 0, 1, 1}, xg::kBool);
  const Tensor c = m.index({Slice(1, None, 2)});
  EXPECT_EQ(c.dtype(), xg::kBool);
  EXPECT_EQ(values(c), (std::vector<double>{0, 1}));
  EXPECT_EQ(values(m.index({m})), (std::vector<double>{1, 1, 1}));
}

// A negative Int64 index is read from the end of the dim; the index tensor stays as it was.
TEST(Index, NegativeIndexTensorIsLeftUnchanged) {
  const Tensor x = x34();
  const Tensor i = xg::tensor({-1, 0, -4}, xg::kInt64);
  const auto version = i._version();
  EXPECT_EQ(values(x.index({0, i})), (std::vector<double>{3, 0, 0}));
  EXPECT_EQ(values(i), (std::vector<double>{-1, 0, -4}));
  EXPECT_EQ(i._version(), version);
  // a non-contiguous index tensor: every other element of [-1, 9, 1, 9, -3]
  const Tensor s = xg::tensor({-1, 9, 1, 9, -3}, xg::kInt64).slice(0, 0, None, 2);
  EXPECT_EQ(values(x.index({s})), (std::vector<double>{8, 9, 10, 11, 4, 5, 6, 7, 0, 1, 2, 3}));
}

// x[...] and x[()] are new views (PyTorch's alias), not x itself: a non-leaf of a leaf.
TEST(Index, EllipsisAndEmptyIndexAreNewViews) {
  const Tensor x = xg::ones({2, 3}, xg::requires_grad());
  for (const Tensor& y : {x.index({"..."}), x.index(std::vector<TensorIndex>{})}) {
    EXPECT_FALSE(y.is_leaf());
    EXPECT_TRUE(y.is_alias_of(x));
    EXPECT_EQ(y.sizes(), (Shape{2, 3}));
  }
  const Tensor z = xg::tensor({1, 2}, xg::kFloat32);
  Tensor y = z.index({Ellipsis});
  y.mul_(3);  // writes through
  EXPECT_EQ(values(z), (std::vector<double>{3, 6}));
}

// A write into a view made by index reaches the base, and the base's gradient sees it.
TEST(Index, InPlaceThroughAViewRewritesTheBasesHistory) {
  const Tensor leaf = xg::ones({2, 3}, xg::kFloat64).requires_grad_();
  Tensor base = leaf * 2;
  Tensor v = base.index({Slice(), 1});  // [2]: the middle column
  v.mul_(5);
  EXPECT_EQ(values(base), (std::vector<double>{2, 10, 2, 2, 10, 2}));
  base.sum().backward();
  EXPECT_EQ(values(leaf.grad()), (std::vector<double>{2, 10, 2, 2, 10, 2}));
}

TEST(Index, BadStringAndUndefinedTensors) {
  expect_throw<std::invalid_argument>([] { (void)TensorIndex(".."); },
                                      {"index: the only string index is \"...\"", "got \"..\""});
  expect_throw<std::invalid_argument>([] { (void)x34().index({Tensor()}); }, {"index"});
  expect_throw<std::invalid_argument>([] { (void)Tensor().index({0}); }, {"index"});
}

// Errors name the tensor and its dims as the user wrote them (with the ellipsis expanded).
TEST(Index, ErrorMessagesNameTheDimOfTheInput) {
  const Tensor x = xg::ones({2, 3, 4});
  expect_throw<std::out_of_range>(
      [&] {
        (void)x.index({"...", 5});
      },
      {"index: index 5 is out of range for dim 2 of size 4 of [2, 3, 4] Float32"});
  expect_throw<std::out_of_range>(
      [&] {
        (void)x.index({None, 0, None, Slice(), xg::tensor({0, -5}, xg::kInt64)});
      },
      {"index: index -5 is out of range for dim 2 of size 4 of [2, 3, 4] Float32"});
  expect_throw<std::invalid_argument>(
      [&] {
        (void)x.index({0, Slice(None, None, -2)});
      },
      {"index: slice step must be positive, got -2 for dim 1 of [2, 3, 4] Float32"});
  // every check runs before any work: a bad entry after a good one
  expect_throw<std::invalid_argument>(
      [&] {
        (void)x.index({0, xg::ones({2})});
      },
      {"got [2] Float32 for [2, 3, 4] Float32"});
}

}  // namespace
