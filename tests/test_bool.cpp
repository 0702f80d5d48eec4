// The Bool dtype, as PyTorch 1.13's torch.bool: creating and reading masks, conversions,
// promotion with tensors and C++ numbers, in-place ops on masks, where and masked_fill, and
// the ops PyTorch refuses on Bool. Values of the ops on Bool inputs are in the PyTorch
// reference table (test_ops.cpp); these are the checks a table cannot make.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>
#include <xgrad/xgrad.hpp>

namespace {

using xg::Shape;
using xg::Tensor;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

Tensor mask(const std::vector<double>& v, const Shape& shape) {
  return xg::tensor(v, shape, xg::kBool);
}
Tensor mask(const std::vector<double>& v) { return mask(v, {static_cast<std::int64_t>(v.size())}); }

std::vector<bool> bools(const Tensor& t) {
  const Tensor c = t.contiguous();
  const bool* p = c.data_ptr<bool>();
  return std::vector<bool>(p, p + c.numel());
}

std::vector<double> values(const Tensor& t) {
  const auto a = t.to_xarray<double>();
  return std::vector<double>(a.begin(), a.end());
}

// The message of the std::invalid_argument fn throws (a failure for anything else).
template <class F>
std::string invalid(F&& fn) {
  try {
    fn();
  } catch (const std::invalid_argument& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw another type: " << e.what();
    return {};
  }
  ADD_FAILURE() << "did not throw";
  return {};
}

TEST(BoolDtype, Traits) {
  EXPECT_EQ(xg::kBool, xg::Dtype::Bool);
  EXPECT_EQ(xg::dtype_name(xg::kBool), "Bool");
  std::ostringstream os;
  os << xg::kBool;
  EXPECT_EQ(os.str(), "Bool");
  EXPECT_EQ(xg::element_size(xg::kBool), 1u);
  EXPECT_FALSE(xg::is_floating(xg::kBool));
  EXPECT_FALSE(xg::is_floating(xg::kInt64));
  EXPECT_TRUE(xg::is_floating(xg::kFloat32));
  EXPECT_EQ(xg::dtype_of<bool>(), xg::kBool);
  // torch.promote_types: Bool < Int64 < Float32 < Float64.
  EXPECT_EQ(xg::promote_types(xg::kBool, xg::kBool), xg::kBool);
  EXPECT_EQ(xg::promote_types(xg::kBool, xg::kInt64), xg::kInt64);
  EXPECT_EQ(xg::promote_types(xg::kFloat32, xg::kBool), xg::kFloat32);
  EXPECT_EQ(xg::promote_types(xg::kBool, xg::kFloat64), xg::kFloat64);
  // torch.result_type(tensor, number): a number raises the dtype only into its category.
  EXPECT_EQ(xg::result_type(xg::kBool, true), xg::kBool);
  EXPECT_EQ(xg::result_type(xg::kBool, 2), xg::kInt64);
  EXPECT_EQ(xg::result_type(xg::kBool, 2.5), xg::kFloat32);
  EXPECT_EQ(xg::result_type(xg::kInt64, true), xg::kInt64);
  EXPECT_EQ(xg::result_type(xg::kInt64, 0.5), xg::kFloat32);
  EXPECT_EQ(xg::result_type(xg::kFloat64, 0.5), xg::kFloat64);
  EXPECT_EQ(xg::result_type(xg::kFloat32, std::int64_t{1} << 40), xg::kFloat32);
  const xg::Scalar b = true;
  EXPECT_TRUE(b.is_bool());
  EXPECT_TRUE(b.is_integral());
  EXPECT_FALSE(xg::Scalar(1).is_bool());
  EXPECT_TRUE(xg::Scalar(0.5).to<bool>());
  EXPECT_TRUE(xg::Scalar(kNaN).to<bool>());
  EXPECT_FALSE(xg::Scalar(-0.0).to<bool>());
}

TEST(BoolDtype, Creating) {
  // Nonzero (NaN included) is true, as torch.tensor(..., dtype=torch.bool).
  const Tensor t = xg::tensor({0.5, 0, -0.0, kNaN, -3, kInf}, {2, 3}, xg::kBool);
  EXPECT_EQ(t.dtype(), xg::kBool);
  EXPECT_EQ(bools(t), (std::vector<bool>{true, false, false, true, true, true}));
  EXPECT_EQ(bools(xg::zeros({2}, xg::kBool)), (std::vector<bool>{false, false}));
  EXPECT_EQ(bools(xg::ones({2}, xg::kBool)), (std::vector<bool>{true, true}));
  EXPECT_EQ(bools(xg::full({2}, 0.5, xg::kBool)), (std::vector<bool>{true, true}));
  EXPECT_EQ(bools(xg::full({1}, kNaN, xg::kBool)), (std::vector<bool>{true}));
  EXPECT_EQ(bools(xg::full({1}, false, xg::kBool)), (std::vector<bool>{false}));
  EXPECT_EQ(xg::empty({3, 2}, xg::kBool).shape(), (Shape{3, 2}));
  EXPECT_EQ(xg::scalar_tensor(true, xg::kBool).item<bool>(), true);
  EXPECT_EQ(xg::zeros_like(t).dtype(), xg::kBool);
  EXPECT_EQ(xg::full_like(t, 0).dtype(), xg::kBool);
  // randint draws masks, as PyTorch's; its range is integers, so [0, 2) gives both values.
  xg::manual_seed(3);
  const Tensor r = xg::randint(0, 2, {1000}, xg::kBool);
  EXPECT_EQ(r.dtype(), xg::kBool);
  const auto count = r.sum().item<std::int64_t>();
  EXPECT_GT(count, 400);
  EXPECT_LT(count, 600);
  // arange, linspace, randn and rand have no Bool version, as in PyTorch.
  EXPECT_EQ(invalid([] { xg::arange(3, xg::kBool); }),
            "arange: expected a Float32, Float64 or Int64 dtype, got Bool");
  EXPECT_EQ(invalid([] { xg::linspace(0, 1, 3, xg::kBool); }),
            "linspace: expected a Float32, Float64 or Int64 dtype, got Bool");
  EXPECT_EQ(invalid([] { xg::randn({2}, xg::kBool); }),
            "randn: expected a floating dtype, got Bool");
  EXPECT_EQ(invalid([] { xg::rand({2}, xg::kBool); }), "rand: expected a floating dtype, got Bool");
  // Masks cannot require grad.
  EXPECT_EQ(invalid([] { xg::ones({3}, xg::requires_grad().dtype(xg::kBool)); }),
            "requires_grad_: only Float32 and Float64 tensors can require grad, got [3] Bool");
}

TEST(BoolDtype, Reading) {
  const Tensor t = mask({1, 0, 1});
  EXPECT_TRUE(t.select(0, 0).item<bool>());
  EXPECT_FALSE(t.select(0, 1).item<bool>());
  EXPECT_EQ(t.select(0, 2).item(), 1.0);
  EXPECT_EQ(t.select(0, 2).item<std::int64_t>(), 1);
  // item<bool>() of any dtype: nonzero (NaN included) is true.
  EXPECT_TRUE(xg::scalar_tensor(0.25).item<bool>());
  EXPECT_TRUE(xg::scalar_tensor(kNaN).item<bool>());
  EXPECT_FALSE(xg::scalar_tensor(0, xg::kInt64).item<bool>());
  bool* p = t.data_ptr<bool>();
  EXPECT_TRUE(p[0]);
  EXPECT_FALSE(p[1]);
  EXPECT_EQ(invalid([&] { t.data_ptr<float>(); }),
            "data_ptr: asked for Float32 elements of a [3] Bool tensor");
  EXPECT_EQ(invalid([] { xg::ones({2}).data_ptr<bool>(); }),
            "data_ptr: asked for Bool elements of a [2] Float32 tensor");
  // xtensor in and out.
  const xt::xarray<bool> a = t.to_xarray<bool>();
  EXPECT_EQ(a.shape(0), 3u);
  EXPECT_TRUE(a(0));
  EXPECT_FALSE(a(1));
  const xt::xarray<bool> b = xg::tensor({0, 2.5}).to_xarray<bool>();
  EXPECT_FALSE(b(0));
  EXPECT_TRUE(b(1));
  xt::xarray<bool> c = xt::xarray<bool>::from_shape({2, 2});
  c(0, 0) = true;
  c(0, 1) = false;
  c(1, 0) = false;
  c(1, 1) = true;
  const Tensor from = xg::from_xarray(c);
  EXPECT_EQ(from.dtype(), xg::kBool);
  EXPECT_EQ(from.shape(), (Shape{2, 2}));
  EXPECT_EQ(bools(from), (std::vector<bool>{true, false, false, true}));
}

TEST(BoolDtype, Printing) {
  std::ostringstream os;
  os << mask({1, 0, 0, 1}, {2, 2});
  EXPECT_EQ(os.str(),
            "tensor([[true, false], [false, true]], shape=[2, 2], dtype=Bool, "
            "requires_grad=false)");
  std::ostringstream zero_d;
  zero_d << xg::scalar_tensor(false, xg::kBool);
  EXPECT_EQ(zero_d.str(), "tensor(false, shape=[], dtype=Bool, requires_grad=false)");
}

TEST(BoolDtype, Conversions) {
  // Nonzero and NaN become true; -0.0 false.
  const Tensor f = xg::tensor({0, -0.0, 0.1, kNaN, -kInf});
  EXPECT_EQ(bools(f.to(xg::kBool)), (std::vector<bool>{false, false, true, true, true}));
  EXPECT_EQ(bools(xg::tensor({0, 3, -1}, xg::kInt64).to(xg::kBool)),
            (std::vector<bool>{false, true, true}));
  const Tensor m = mask({1, 0, 1});
  EXPECT_EQ(m.to(xg::kFloat32).dtype(), xg::kFloat32);
  EXPECT_EQ(values(m.to(xg::kFloat32)), (std::vector<double>{1, 0, 1}));
  EXPECT_EQ(values(m.to(xg::kFloat64)), (std::vector<double>{1, 0, 1}));
  EXPECT_EQ(m.to(xg::kInt64).data_ptr<std::int64_t>()[2], 1);
  EXPECT_TRUE(m.to(xg::kBool).is_alias_of(m));  // the tensor itself
  // A converted copy of a tensor that requires grad carries no graph.
  const Tensor x = xg::ones({2}, xg::requires_grad());
  EXPECT_FALSE(x.to(xg::kBool).requires_grad());
  // Strided views convert too.
  const Tensor v = xg::tensor({1, 0, 0, 2}, {2, 2}).t().to(xg::kBool);
  EXPECT_EQ(bools(v), (std::vector<bool>{true, false, false, true}));
}

TEST(BoolDtype, ComparisonsReturnBoolAndRecordNothing) {
  const Tensor x = xg::tensor({-1, 0, 2}, xg::requires_grad());
  for (const Tensor& m : {x.gt(0.0), x.eq(x), xg::lt(x, xg::zeros({3})), x.isnan(), x.logical_not(),
                          xg::logical_and(x, x), x.any(), x.all(0)}) {
    EXPECT_EQ(m.dtype(), xg::kBool);
    EXPECT_FALSE(m.requires_grad());
    EXPECT_TRUE(m.is_leaf());
  }
  // The Float32 mask that comparisons used to return is a conversion away: accuracy.
  const Tensor predicted = xg::tensor({0, 2, 1, 1}, xg::kInt64);
  const Tensor labels = xg::tensor({0, 1, 1, 1}, xg::kInt64);
  EXPECT_EQ(predicted.eq(labels).to(xg::kFloat32).mean().item(), 0.75);
  EXPECT_EQ(predicted.eq(labels).sum().item<std::int64_t>(), 3);
}

TEST(BoolDtype, ArithmeticAndPromotion) {
  const Tensor a = mask({1, 0, 1, 0}), b = mask({1, 1, 0, 0});
  // + is or, * is and, as PyTorch.
  EXPECT_EQ((a + b).dtype(), xg::kBool);
  EXPECT_EQ(bools(a + b), (std::vector<bool>{true, true, true, false}));
  EXPECT_EQ(bools(a * b), (std::vector<bool>{true, false, false, false}));
  EXPECT_EQ(bools(a + true), (std::vector<bool>{true, true, true, true}));
  EXPECT_EQ(bools(a * false), (std::vector<bool>{false, false, false, false}));
  EXPECT_EQ(bools(xg::add(a, b, 2)), (std::vector<bool>{true, true, true, false}));
  EXPECT_EQ(bools(xg::add(a, b, 0)), (std::vector<bool>{true, false, true, false}));
  // A number of a higher category promotes: int to Int64, floating to Float32.
  EXPECT_EQ((a + 1).dtype(), xg::kInt64);
  EXPECT_EQ((a * 2).data_ptr<std::int64_t>()[0], 2);
  EXPECT_EQ((a * 1.5).dtype(), xg::kFloat32);
  EXPECT_EQ((a / 2).dtype(), xg::kFloat32);
  EXPECT_EQ((a / b).dtype(), xg::kFloat32);
  // A bool number keeps any tensor's dtype.
  const Tensor i = xg::tensor({1, 2}, xg::kInt64), f = xg::tensor({1, 2}, xg::kFloat64);
  EXPECT_EQ((i + true).dtype(), xg::kInt64);
  EXPECT_EQ((f * true).dtype(), xg::kFloat64);
  EXPECT_EQ(values(f * false), (std::vector<double>{0, 0}));
  // With tensors: Bool < Int64 < Float32 < Float64.
  EXPECT_EQ((a + xg::ones({4}, xg::kInt64)).dtype(), xg::kInt64);
  EXPECT_EQ((xg::ones({4}, xg::kFloat64) * a).dtype(), xg::kFloat64);
  EXPECT_EQ(xg::maximum(a, b).dtype(), xg::kBool);
  EXPECT_EQ(xg::cat({a, xg::ones({1})}).dtype(), xg::kFloat32);
  // Math promotes as PyTorch's: floating functions to Float32, square to Int64, sign stays.
  EXPECT_EQ(xg::exp(a).dtype(), xg::kFloat32);
  EXPECT_EQ(xg::square(a).dtype(), xg::kInt64);
  EXPECT_EQ(xg::sign(a).dtype(), xg::kBool);
  EXPECT_EQ(xg::pow(a, 2).dtype(), xg::kInt64);
  EXPECT_EQ(xg::pow(a, 0.5).dtype(), xg::kFloat32);
  EXPECT_EQ(xg::pow(2, a).dtype(), xg::kInt64);
  EXPECT_EQ(xg::clamp(a, 0, 1).dtype(), xg::kInt64);
  EXPECT_EQ(xg::clamp(a, 0.5).dtype(), xg::kFloat32);
  // Reductions: sum counts (Int64); max and min are any and all; mean has no Bool version.
  EXPECT_EQ(a.sum().dtype(), xg::kInt64);
  EXPECT_EQ(a.sum().item<std::int64_t>(), 2);
  EXPECT_EQ(a.reshape({2, 2}).sum({0}).dtype(), xg::kInt64);
  EXPECT_EQ(a.max().dtype(), xg::kBool);
  EXPECT_TRUE(a.max().item<bool>());
  EXPECT_FALSE(a.min().item<bool>());
  EXPECT_EQ(xg::logsumexp(a, {0}).dtype(), xg::kFloat32);
  EXPECT_EQ(invalid([&] { a.mean(); }), "mean: expected a Float32 or Float64 tensor, got [4] Bool");
  // Shape ops keep Bool.
  EXPECT_EQ(a.reshape({2, 2}).t().contiguous().dtype(), xg::kBool);
  EXPECT_EQ(bools(a.reshape({2, 2}).t()), (std::vector<bool>{true, true, false, false}));
  EXPECT_EQ(bools(xg::stack({a, b}, 1).flatten()),
            (std::vector<bool>{true, true, false, true, true, false, false, false}));
  EXPECT_EQ(bools(a.index_select(0, xg::tensor({2, 1}, xg::kInt64))),
            (std::vector<bool>{true, false}));
  EXPECT_EQ(bools(a.expand({2, 4}).contiguous()),
            (std::vector<bool>{true, false, true, false, true, false, true, false}));
}

TEST(BoolDtype, OpsPyTorchRefuses) {
  const Tensor a = mask({1, 0, 1});
  const std::string hint =
      "; use logical_not() to invert a mask, logical_xor() to find where two masks differ";
  EXPECT_EQ(
      invalid([&] { a - a; }),
      "sub: subtraction with a Bool operand is not supported, got [3] Bool and [3] Bool" + hint);
  EXPECT_EQ(
      invalid([&] { xg::ones({3}) - a; }),
      "sub: subtraction with a Bool operand is not supported, got [3] Float32 and [3] Bool" + hint);
  EXPECT_EQ(
      invalid([&] { 1 - a; }),
      "sub: subtraction with a Bool operand is not supported, got a number and [3] Bool" + hint);
  EXPECT_EQ(
      invalid([&] { xg::ones({3}) - true; }),
      "sub: subtraction with a Bool operand is not supported, got [3] Float32 and a bool" + hint);
  EXPECT_EQ(
      invalid([&] { xg::sub(a, a, 2); }),
      "sub: subtraction with a Bool operand is not supported, got [3] Bool and [3] Bool" + hint);
  EXPECT_EQ(invalid([&] { -a; }),
            "neg: negation of a Bool tensor is not supported, got [3] Bool; use logical_not() to "
            "invert a mask");
  const std::string expected = ": expected a Float32, Float64 or Int64 tensor, got [3] Bool";
  EXPECT_EQ(invalid([&] { xg::abs(a); }), "abs" + expected);
  EXPECT_EQ(invalid([&] { a.relu(); }), "relu" + expected);
  EXPECT_EQ(invalid([&] { xg::gelu(a); }),
            "gelu: expected a Float32 or Float64 tensor, got [3] Bool");  // nor for Int64
  EXPECT_EQ(invalid([&] { a.argmax(); }), "argmax" + expected);
  EXPECT_EQ(invalid([&] { xg::argmin(a, 0); }), "argmin" + expected);
  EXPECT_EQ(invalid([&] { xg::pow(a, a); }), "pow" + expected);
  EXPECT_EQ(invalid([&] { xg::pow(a, true); }), "pow" + expected);
  EXPECT_EQ(invalid([&] { xg::pow(true, a); }), "pow" + expected);
  EXPECT_EQ(invalid([&] { xg::clamp(a, false, true); }), "clamp" + expected);
  EXPECT_EQ(invalid([&] { xg::matmul(a, a); }), "matmul" + expected);
  EXPECT_EQ(invalid([] {
              xg::mm(xg::ones({2, 2}, xg::kBool), xg::ones({2, 2}, xg::kBool));
            }),
            "mm: expected a Float32, Float64 or Int64 tensor, got [2, 2] Bool");
  EXPECT_EQ(invalid([] { xg::softmax(xg::ones({2}, xg::kBool), 0); }),
            "softmax: expected a Float32 or Float64 tensor, got [2] Bool");
}

TEST(BoolDtype, InPlace) {
  Tensor a = mask({1, 0, 1, 0});
  const Tensor b = mask({1, 1, 0, 0});
  a.add_(b);  // or
  EXPECT_EQ(bools(a), (std::vector<bool>{true, true, true, false}));
  a.mul_(b);  // and
  EXPECT_EQ(bools(a), (std::vector<bool>{true, true, false, false}));
  a.add_(true);
  EXPECT_EQ(bools(a), (std::vector<bool>{true, true, true, true}));
  a.mul_(false);
  EXPECT_EQ(bools(a), (std::vector<bool>{false, false, false, false}));
  a.fill_(0.5);  // nonzero: true
  EXPECT_EQ(bools(a), (std::vector<bool>{true, true, true, true}));
  a.zero_();
  EXPECT_EQ(bools(a), (std::vector<bool>{false, false, false, false}));
  a.copy_(xg::tensor({kNaN, 0, -2, 0.25}));
  EXPECT_EQ(bools(a), (std::vector<bool>{true, false, true, true}));
  a.add_(b, 0);  // alpha counts as a bool, as PyTorch
  EXPECT_EQ(bools(a), (std::vector<bool>{true, false, true, true}));
  // A mask takes only Bool results in place (PyTorch's can_cast).
  EXPECT_EQ(invalid([&] { a.add_(xg::ones({4}, xg::kInt64)); }),
            "add_: the result type Int64 cannot be stored in place in a Bool tensor ([4] Bool, "
            "other [4] Int64)");
  EXPECT_EQ(invalid([&] { a.mul_(2); }),
            "mul_: the result type Int64 cannot be stored in place in a Bool tensor ([4] Bool)");
  EXPECT_EQ(invalid([&] { a.mul_(0.5); }),
            "mul_: the result type Float32 cannot be stored in place in a Bool tensor ([4] Bool)");
  EXPECT_EQ(invalid([&] { a.div_(b); }),
            "div_: the result type Float32 cannot be stored in place in a Bool tensor ([4] Bool, "
            "other [4] Bool)");
  EXPECT_EQ(invalid([&] { a.div_(true); }),
            "div_: the result type Float32 cannot be stored in place in a Bool tensor ([4] Bool)");
  EXPECT_THROW(a.sub_(b), std::invalid_argument);
  EXPECT_THROW(a.sub_(true), std::invalid_argument);
  EXPECT_EQ(bools(a), (std::vector<bool>{true, false, true, true}));  // unchanged
  // Masks in place into other dtypes: promoted, stored in the tensor's dtype.
  Tensor f = xg::tensor({1, 2, 3, 4});
  f.add_(b, 2);
  EXPECT_EQ(values(f), (std::vector<double>{3, 4, 3, 4}));
  f.mul_(b);
  EXPECT_EQ(values(f), (std::vector<double>{3, 4, 0, 0}));
  Tensor i = xg::tensor({1, 2, 3, 4}, xg::kInt64);
  i.add_(b);
  EXPECT_EQ(values(i), (std::vector<double>{2, 3, 3, 4}));
  EXPECT_THROW(f.sub_(b), std::invalid_argument);
  EXPECT_THROW(i.sub_(true), std::invalid_argument);
  EXPECT_THROW(i.div_(b), std::invalid_argument);  // Float32 into Int64
  EXPECT_EQ(values(i), (std::vector<double>{2, 3, 3, 4}));
}

TEST(BoolDtype, WhereNeedsABoolCondition) {
  const Tensor a = xg::tensor({1, 2, 3}), b = xg::tensor({-1, -2, -3});
  EXPECT_EQ(invalid([&] { xg::where(a, a, b); }),
            "where: expected a Bool condition, got [3] Float32 (make one with a comparison, "
            "such as ne(cond, 0))");
  EXPECT_EQ(invalid([&] { xg::where(xg::ones({3}, xg::kInt64), a, 0.0); }),
            "where: expected a Bool condition, got [3] Int64 (make one with a comparison, such as "
            "ne(cond, 0))");
  const Tensor c = mask({1, 0, 1});
  EXPECT_EQ(values(xg::where(c, a, b)), (std::vector<double>{1, -2, 3}));
  // A number for a branch: result_type with the other branch.
  EXPECT_EQ(xg::where(c, a, 0).dtype(), xg::kFloat32);
  EXPECT_EQ(values(xg::where(c, a, 0)), (std::vector<double>{1, 0, 3}));
  EXPECT_EQ(values(xg::where(c, 9.5, b)), (std::vector<double>{9.5, -2, 9.5}));
  EXPECT_EQ(xg::where(c, xg::ones({3}, xg::kFloat64), 2.5).dtype(), xg::kFloat64);
  const Tensor i = xg::tensor({1, 2, 3}, xg::kInt64);
  EXPECT_EQ(xg::where(c, i, 7).dtype(), xg::kInt64);
  EXPECT_EQ(xg::where(c, i, 0.5).dtype(), xg::kFloat32);
  EXPECT_EQ(xg::where(c, i, true).dtype(), xg::kInt64);
  EXPECT_EQ(xg::where(c, c, true).dtype(), xg::kBool);
  EXPECT_EQ(xg::where(c, 2, c).dtype(), xg::kInt64);
  EXPECT_EQ(xg::where(c, c, 0.5).dtype(), xg::kFloat32);
  // Two numbers: Bool for two bools, Float32 if either is floating, else Int64.
  EXPECT_EQ(xg::where(c, true, false).dtype(), xg::kBool);
  EXPECT_EQ(bools(xg::where(c, false, true)), (std::vector<bool>{false, true, false}));
  EXPECT_EQ(xg::where(c, 1, true).dtype(), xg::kInt64);
  EXPECT_EQ(xg::where(c, 1, 2.5).dtype(), xg::kFloat32);
  EXPECT_EQ(values(xg::where(c, 1, 2.5)), (std::vector<double>{1, 2.5, 1}));
  // Gradients reach the tensor branch only.
  const Tensor x = xg::tensor({1, 2, 3}, xg::requires_grad());
  xg::where(c, x * 2, 5.0).sum().backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{2, 0, 2}));
  EXPECT_EQ(xg::where(c, 1.0, x).grad_fn_name(), "WhereBackward");
}

TEST(BoolDtype, MaskedFill) {
  const Tensor t = xg::tensor({1, 2, 3, 4, 5, 6}, {2, 3});
  const Tensor row = mask({1, 0, 1}, {3});
  EXPECT_EQ(values(t.masked_fill(row, -1)), (std::vector<double>{-1, 2, -1, -1, 5, -1}));
  EXPECT_EQ(values(xg::masked_fill(t, row, xg::scalar_tensor(7.0))),
            (std::vector<double>{7, 2, 7, 7, 5, 7}));
  // Out of place, the mask may be the larger operand (PyTorch broadcasts both).
  const Tensor v = xg::tensor({1, 2, 3});
  EXPECT_EQ(xg::masked_fill(v, mask({1, 0, 0, 0, 0, 1}, {2, 3}), 0).shape(), (Shape{2, 3}));
  // The value converts to t's dtype: truncated for Int64 (a value Int64 cannot hold throws),
  // nonzero for Bool.
  const Tensor i = xg::tensor({1, 2, 3}, xg::kInt64);
  EXPECT_EQ(values(i.masked_fill(row, 2.75)), (std::vector<double>{2, 2, 2}));
  EXPECT_EQ(values(i.masked_fill(row, xg::scalar_tensor(-2.5))), (std::vector<double>{-2, 2, -2}));
  EXPECT_EQ(invalid([&] { i.masked_fill(row, kInf); }),
            "masked_fill: value inf cannot be converted to Int64 without overflow");
  EXPECT_EQ(bools(mask({0, 0, 1}).masked_fill(row, 0.5)), (std::vector<bool>{true, false, true}));
  // Errors: the mask must be Bool; a tensor value 0-d; shapes must broadcast.
  EXPECT_EQ(invalid([&] { t.masked_fill(xg::ones({3}, xg::kInt64), 0); }),
            "masked_fill: expected a Bool mask, got [3] Int64 (make one with a comparison, such "
            "as ne(mask, 0))");
  EXPECT_EQ(invalid([&] { t.masked_fill(row, xg::ones({1})); }),
            "masked_fill: expected a 0-d value tensor, got [1] Float32");
  EXPECT_EQ(invalid([&] {
              t.masked_fill(mask({1, 0}), 0);
            }),
            "masked_fill: shapes [2, 3] and [2] cannot be broadcast (size 3 != 2 at dim 1)");
  // Differentiable in t (zero where filled) and in a tensor value (the sum of the filled
  // elements' gradients), as PyTorch.
  const Tensor x = xg::tensor({1, 2, 3, 4, 5, 6}, {2, 3}, xg::requires_grad());
  const Tensor value = xg::scalar_tensor(0.0, xg::TensorOptions(xg::kFloat64).requires_grad(true));
  const Tensor y = xg::masked_fill(x, row, value);
  EXPECT_EQ(y.dtype(), xg::kFloat32);
  EXPECT_EQ(y.grad_fn_name(), "MaskedFillBackward");
  (y * xg::tensor({1, 2, 3, 4, 5, 6}, {2, 3})).sum().backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{0, 2, 0, 0, 5, 0}));
  EXPECT_EQ(value.grad().dtype(), xg::kFloat64);
  EXPECT_EQ(value.grad().item(), 1 + 3 + 4 + 6);
  // An Int64 result carries no gradient, whatever the value.
  EXPECT_FALSE(i.masked_fill(row, value).requires_grad());
}

TEST(BoolDtype, MaskedFillInPlace) {
  Tensor t = xg::tensor({1, 2, 3, 4, 5, 6}, {2, 3});
  const auto version = t._version();
  Tensor& same = t.masked_fill_(mask({1, 0}, {2, 1}), 0);
  EXPECT_EQ(&same, &t);
  EXPECT_EQ(t._version(), version + 1);
  EXPECT_EQ(values(t), (std::vector<double>{0, 0, 0, 4, 5, 6}));
  t.masked_fill_(mask({0, 0, 1}), xg::scalar_tensor(9, xg::kInt64));
  EXPECT_EQ(values(t), (std::vector<double>{0, 0, 9, 4, 5, 9}));
  // Through a view: the base sees it.
  Tensor base = xg::zeros({2, 3}, xg::kInt64);
  Tensor col = base.select(1, 1);
  col.masked_fill_(mask({0, 1}), 7);
  EXPECT_EQ(values(base), (std::vector<double>{0, 0, 0, 0, 7, 0}));
  // The mask broadcasts to t's shape, never beyond; nothing changes when a check fails.
  Tensor v = xg::tensor({1, 2, 3});
  EXPECT_EQ(invalid([&] {
              v.masked_fill_(mask({1, 0, 0, 0, 0, 1}, {2, 3}), 0);
            }),
            "masked_fill_: the result of shape [2, 3] does not fit in place in a tensor of shape "
            "[3] (other is [2, 3] Bool)");
  EXPECT_EQ(invalid([&] { v.masked_fill_(xg::ones({3}), 0); }),
            "masked_fill_: expected a Bool mask, got [3] Float32 (make one with a comparison, such "
            "as ne(mask, 0))");
  EXPECT_EQ(invalid([&] {
              v.masked_fill_(mask({1, 0, 0}), xg::ones({2}));
            }),
            "masked_fill_: expected a 0-d value tensor, got [2] Float32");
  Tensor i = xg::tensor({1, 2, 3}, xg::kInt64);
  EXPECT_EQ(invalid([&] {
              i.masked_fill_(mask({1, 0, 0}), kNaN);
            }),
            "masked_fill_: value nan cannot be converted to Int64 without overflow");
  EXPECT_EQ(values(v), (std::vector<double>{1, 2, 3}));
  EXPECT_EQ(values(i), (std::vector<double>{1, 2, 3}));
  // An expanded view has elements that share memory.
  Tensor e = xg::zeros({1, 3}).expand({2, 3});
  EXPECT_THROW(e.masked_fill_(mask({1, 0, 0}), 1), std::runtime_error);
  // A leaf that requires grad, with grad mode on, as every in-place op.
  Tensor w = xg::ones({3}, xg::requires_grad());
  EXPECT_THROW(w.masked_fill_(mask({1, 0, 0}), 0), std::runtime_error);
  {
    xg::NoGradGuard no_grad;
    w.masked_fill_(mask({1, 0, 0}), 0);
  }
  EXPECT_EQ(values(w), (std::vector<double>{0, 1, 1}));
}

TEST(BoolDtype, TrilTriu) {
  const Tensor m = xg::arange(1, 13, 1, xg::kFloat32).reshape({3, 4});
  EXPECT_EQ(values(m.tril()), (std::vector<double>{1, 0, 0, 0, 5, 6, 0, 0, 9, 10, 11, 0}));
  EXPECT_EQ(values(m.triu(1)), (std::vector<double>{0, 2, 3, 4, 0, 0, 7, 8, 0, 0, 0, 12}));
  EXPECT_EQ(values(xg::tril(m, -1)), (std::vector<double>{0, 0, 0, 0, 5, 0, 0, 0, 9, 10, 0, 0}));
  // A causal mask, as attention uses: true above the diagonal.
  const Tensor causal = xg::ones({3, 3}, xg::kBool).triu(1);
  EXPECT_EQ(bools(causal),
            (std::vector<bool>{false, true, true, false, false, true, false, false, false}));
  const Tensor scores = xg::zeros({3, 3}).masked_fill(causal, -kInf).softmax(-1);
  const std::vector<double> p = values(scores);
  const std::vector<double> expected{1, 0, 0, 0.5, 0.5, 0, 1.0 / 3, 1.0 / 3, 1.0 / 3};
  for (std::size_t k = 0; k < p.size(); ++k) EXPECT_NEAR(p[k], expected[k], 1e-7) << k;
  // Strided input: the result is contiguous and leaves the input alone.
  const Tensor mt = m.t();
  const Tensor low = mt.tril();
  EXPECT_TRUE(low.is_contiguous());
  EXPECT_FALSE(low.is_alias_of(m));
  EXPECT_EQ(values(low), (std::vector<double>{1, 0, 0, 2, 6, 0, 3, 7, 11, 4, 8, 12}));
  // Backward is the same triangle of the gradient.
  const Tensor x = xg::ones({2, 2}, xg::requires_grad());
  const Tensor y = x.triu();
  EXPECT_EQ(y.grad_fn_name(), "TriuBackward");
  (y * 3).sum().backward();
  EXPECT_EQ(values(x.grad()), (std::vector<double>{3, 3, 0, 3}));
  EXPECT_EQ(invalid([] { xg::triu(xg::scalar_tensor(1.0)); }),
            "triu: expects a matrix or a batch of matrices, got [] Float32");
}

TEST(BoolDtype, AnyAll) {
  const Tensor m = mask({1, 0, 0, 0}, {2, 2});
  EXPECT_TRUE(m.any().item<bool>());
  EXPECT_FALSE(m.all().item<bool>());
  EXPECT_EQ(m.any().dim(), 0);
  EXPECT_EQ(bools(m.any(1)), (std::vector<bool>{true, false}));
  EXPECT_EQ(m.all(0, true).shape(), (Shape{1, 2}));
  // Empty: any is false, all is true.
  EXPECT_FALSE(xg::zeros({0}).any().item<bool>());
  EXPECT_TRUE(xg::zeros({0}).all().item<bool>());
  EXPECT_EQ(bools(xg::zeros({0, 2}).all(0)), (std::vector<bool>{true, true}));
  // Any dtype: nonzero, NaN included, counts.
  EXPECT_TRUE(xg::tensor({0, kNaN}).any().item<bool>());
  EXPECT_TRUE(xg::isnan(xg::tensor({0, kNaN})).any().item<bool>());
  EXPECT_THROW(m.any(2), std::out_of_range);
}

}  // namespace
