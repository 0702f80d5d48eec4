// Every error path of the public API: the exception type (std::invalid_argument for shapes,
// dtypes and values; std::out_of_range for dims and indices; std::runtime_error for autograd
// misuse), a message that names the op and the shapes, and no change to any tensor after a
// failed call. test_error_messages.cpp checks one call per entry of docs/errors.md word for word,
// so those calls are not repeated here; this file covers the other ops, overloads, shapes and
// dtypes that reach each error.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <string>
#include <typeinfo>
#include <vector>
#include <xgrad/tensor/check.hpp>
#include <xgrad/xgrad.hpp>

#include "op_info.hpp"
#include "unary_cases.hpp"

namespace {

using xg::Shape;
using xg::Tensor;

// Runs fn, expects an exception of type E whose what() contains every one of `parts`.
template <class E>
void expect_error(const std::function<void()>& fn, const std::vector<std::string>& parts) {
  try {
    fn();
  } catch (const E& e) {
    const std::string what = e.what();
    for (const auto& p : parts) {
      EXPECT_NE(what.find(p), std::string::npos)
          << "message \"" << what << "\" lacks \"" << p << "\"";
    }
    return;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw the wrong type (" << typeid(e).name() << "): " << e.what();
    return;
  }
  ADD_FAILURE() << "did not throw";
}

#define EXPECT_INVALID(stmt, ...) \
  expect_error<std::invalid_argument>([&] { (void)(stmt); }, {__VA_ARGS__})
#define EXPECT_OUT_OF_RANGE(stmt, ...) \
  expect_error<std::out_of_range>([&] { (void)(stmt); }, {__VA_ARGS__})
#define EXPECT_RUNTIME(stmt, ...) \
  expect_error<std::runtime_error>([&] { (void)(stmt); }, {__VA_ARGS__})

std::uint64_t version_of(const Tensor& t) { return t._version(); }

std::vector<double> values_of(const Tensor& t) {
  const auto a = t.to_xarray<double>();
  return std::vector<double>(a.begin(), a.end());
}

// ---- shapes that do not fit -------------------------------------------------------------------

TEST(Errors, BinaryOpsWithShapesThatDoNotBroadcast) {
  const Tensor a = xg::ones({2, 3}), b = xg::ones({4});
  EXPECT_INVALID(a - b, "sub", "[2, 3]", "[4]");
  EXPECT_INVALID(a * b, "mul", "[2, 3]", "[4]");
  EXPECT_INVALID(a / b, "div", "[2, 3]", "[4]");
  EXPECT_INVALID(xg::add(a, b, 2), "add", "[2, 3]", "[4]");
  EXPECT_INVALID(xg::sub(a, b, 2), "sub", "[2, 3]", "[4]");
  EXPECT_INVALID(a.add(b), "add", "[2, 3]", "[4]");
  EXPECT_INVALID(a.mul(b), "mul", "[2, 3]", "[4]");
  EXPECT_INVALID(xg::pow(a, b), "pow", "[2, 3]", "[4]");
  EXPECT_INVALID(xg::maximum(a, b), "maximum", "[2, 3]", "[4]");
  EXPECT_INVALID(xg::minimum(a, b), "minimum", "[2, 3]", "[4]");
  EXPECT_INVALID(xg::eq(a, b), "eq", "[2, 3]", "[4]");
  EXPECT_INVALID(xg::ne(a, b), "ne", "[2, 3]", "[4]");
  EXPECT_INVALID(xg::lt(a, b), "lt", "[2, 3]", "[4]");
  EXPECT_INVALID(xg::le(a, b), "le", "[2, 3]", "[4]");
  EXPECT_INVALID(xg::gt(a, b), "gt", "[2, 3]", "[4]");
  EXPECT_INVALID(xg::ge(a, b), "ge", "[2, 3]", "[4]");
  // Middle dims: [2, 3, 4] and [5, 4].
  EXPECT_INVALID(xg::ones({2, 3, 4}) + xg::ones({5, 4}), "add", "[2, 3, 4]", "[5, 4]");
  // where: any pair of the three
  EXPECT_INVALID(xg::where(xg::ones({2, 3}, xg::kBool), a, b), "where", "[4]");
  EXPECT_INVALID(xg::where(xg::ones({5}, xg::kBool), a, a), "where", "[5]", "[2, 3]");
}

TEST(Errors, MatmulAndMmShapes) {
  EXPECT_INVALID(xg::matmul(xg::ones({2, 3}), xg::ones({4, 5})), "matmul", "[2, 3]", "[4, 5]");
  EXPECT_INVALID(xg::matmul(xg::ones({3}), xg::ones({4})), "matmul", "[3]", "[4]");
  EXPECT_INVALID(xg::matmul(xg::ones({2, 3}), xg::ones({2})), "matmul", "[2, 3]", "[2]");
  EXPECT_INVALID(xg::matmul(xg::ones({3}), xg::ones({2, 3})), "matmul", "[3]", "[2, 3]");
  EXPECT_INVALID(xg::matmul(xg::ones({5, 2, 3}), xg::ones({5, 4, 2})), "matmul", "[5, 2, 3]",
                 "[5, 4, 2]");
  EXPECT_INVALID(xg::matmul(xg::ones({2}), xg::scalar_tensor(1.0)), "matmul", "[2]", "[]");
  EXPECT_INVALID(xg::ones({2, 3}).matmul(xg::ones({4, 5})), "matmul", "[2, 3]", "[4, 5]");
  EXPECT_INVALID(xg::mm(xg::ones({3}), xg::ones({3, 5})), "mm", "[3]", "[3, 5]");
  EXPECT_INVALID(xg::mm(xg::ones({2, 2, 3}), xg::ones({3, 5})), "mm", "[2, 2, 3]", "[3, 5]");
  EXPECT_INVALID(xg::mm(xg::ones({2, 3}, xg::kInt64), xg::ones({3, 2})), "mm", "Int64", "Float32");
  EXPECT_INVALID(xg::ones({2, 3}).mm(xg::ones({4, 5})), "mm", "[2, 3]", "[4, 5]");
  EXPECT_INVALID(xg::t(xg::ones({2, 3, 4})), "t", "[2, 3, 4]");
}

TEST(Errors, CatAndStackShapes) {
  const Tensor a = xg::ones({2, 3});
  EXPECT_INVALID(xg::cat({a, xg::ones({2, 4})}, 0), "cat", "[2, 3]", "[2, 4]");
  EXPECT_INVALID(xg::cat({a, xg::ones({3, 2})}, 1), "cat", "[2, 3]", "[3, 2]");
  EXPECT_INVALID(xg::cat({a, xg::ones({2, 3, 1})}, 0), "cat", "[2, 3]", "[2, 3, 1]");
  EXPECT_INVALID(xg::stack({a, xg::ones({3, 2})}, 0), "stack", "[2, 3]", "[3, 2]");
  EXPECT_INVALID(xg::stack({a, xg::ones({2, 3, 1})}, 0), "stack", "[2, 3]", "[2, 3, 1]");
}

TEST(Errors, ExpandReshapeViewShapes) {
  const Tensor a = xg::ones({3, 2});
  EXPECT_INVALID(xg::expand(a, {3, 4}), "expand", "[3, 2]", "[3, 4]");
  EXPECT_INVALID(xg::expand(a, {2}), "expand", "[3, 2]", "[2]");
  EXPECT_INVALID(xg::expand(a, {-1, 3, 2}), "expand", "[-1, 3, 2]");
  EXPECT_INVALID(a.expand({6, 2}), "expand", "[3, 2]", "[6, 2]");
  EXPECT_INVALID(xg::reshape(a, {4, -1}), "reshape", "[4, -1]", "6");
  EXPECT_INVALID(xg::reshape(a, {-2, -3}), "reshape", "[-2, -3]");
  EXPECT_INVALID(xg::reshape(a, {}), "reshape", "[]");
  EXPECT_INVALID(a.reshape({7}), "reshape", "[7]");
  EXPECT_INVALID(xg::view(a, {4}), "view", "[4]", "6");
  EXPECT_INVALID(a.view({5, -1}), "view", "[5, -1]");
  EXPECT_INVALID(xg::reshape(xg::ones({0, 3}), {-1, 0}), "reshape", "[-1, 0]");  // ambiguous
  EXPECT_INVALID(xg::permute(xg::ones({2, 3, 4}), {0, 1}), "permute", "[0, 1]");
  EXPECT_INVALID(xg::permute(xg::ones({2, 3, 4}), {0, 1, 1}), "permute", "[0, 1, 1]");
  EXPECT_INVALID(xg::permute(xg::ones({2, 3, 4}), {0, 1, -3}), "permute", "[0, 1, -3]");
}

TEST(Errors, IndexSelectIndex) {
  const Tensor a = xg::ones({2, 3});
  EXPECT_INVALID(xg::index_select(a, 0, xg::zeros({1, 2}, xg::kInt64)), "index_select", "[1, 2]");
  EXPECT_OUT_OF_RANGE(xg::index_select(a, 0, xg::tensor({0, 2}, xg::kInt64)), "index_select", "2",
                      "[2, 3]");
  EXPECT_OUT_OF_RANGE(xg::index_select(a, 1, xg::tensor({3}, xg::kInt64)), "index_select", "3",
                      "[2, 3]");
  EXPECT_OUT_OF_RANGE(xg::index_select(a, 1, xg::tensor({-1}, xg::kInt64)), "index_select", "-1");
}

TEST(Errors, OtherValueErrors) {
  EXPECT_INVALID(xg::mean(xg::arange(4), {0}), "mean", "Int64");
  EXPECT_INVALID(xg::sum(xg::ones({2, 3}), {1, 1}), "sum", "[1, 1]");
  EXPECT_INVALID(xg::sum(xg::ones({2, 3}), {0, -2}), "sum", "[0, -2]");
  EXPECT_INVALID(xg::amax(xg::ones({2, 3}), {1, -1}), "amax");
  // creation
  EXPECT_INVALID(xg::ones({-3}), "[-3]");
  EXPECT_INVALID(xg::full({-1}, 2.0), "full", "[-1]");
  EXPECT_INVALID(xg::empty({-1}), "empty", "[-1]");
  EXPECT_INVALID(xg::arange(0, 5, -1), "arange");
  EXPECT_INVALID(xg::randint(0, {2}), "randint");
  EXPECT_INVALID(xg::rand({2}, xg::kInt64), "rand", "Int64");
  EXPECT_INVALID(xg::randn({-2}), "randn", "[-2]");
}

// ---- dims out of range: std::out_of_range naming the op and the dim ---------------------------

TEST(Errors, DimsOutOfRange) {
  const Tensor a = xg::ones({2, 3});
  EXPECT_OUT_OF_RANGE(xg::sum(a, {-3}), "sum", "-3");
  EXPECT_OUT_OF_RANGE(a.sum({0, 5}), "sum", "5");
  EXPECT_OUT_OF_RANGE(xg::mean(a, {2}), "mean", "2");
  EXPECT_OUT_OF_RANGE(xg::amax(a, {2}), "amax", "2");
  EXPECT_OUT_OF_RANGE(xg::amin(a, {-3}), "amin", "-3");
  EXPECT_OUT_OF_RANGE(xg::logsumexp(a, {2}), "logsumexp", "2");
  EXPECT_OUT_OF_RANGE(xg::argmax(a, 2), "argmax", "2");
  EXPECT_OUT_OF_RANGE(xg::argmax(a, -3), "argmax", "-3");
  EXPECT_OUT_OF_RANGE(xg::argmin(a, 2), "argmin", "2");
  EXPECT_OUT_OF_RANGE(xg::softmax(a, 2), "softmax", "2");
  EXPECT_OUT_OF_RANGE(xg::softmax(a, -3), "softmax", "-3");
  EXPECT_OUT_OF_RANGE(xg::log_softmax(a, 2), "log_softmax", "2");
  EXPECT_OUT_OF_RANGE(xg::transpose(a, 0, 2), "transpose", "2");
  EXPECT_OUT_OF_RANGE(xg::transpose(a, -3, 0), "transpose", "-3");
  EXPECT_OUT_OF_RANGE(a.size(2), "size", "2");
  EXPECT_OUT_OF_RANGE(a.size(-3), "size", "-3");
  EXPECT_OUT_OF_RANGE(xg::scalar_tensor(1.0).size(0), "size");
  EXPECT_OUT_OF_RANGE(xg::squeeze(a, 2), "squeeze", "2");
  EXPECT_OUT_OF_RANGE(xg::squeeze(a, -3), "squeeze", "-3");
  EXPECT_OUT_OF_RANGE(xg::unsqueeze(a, 3), "unsqueeze", "3");  // valid: [-3, 2]
  EXPECT_OUT_OF_RANGE(xg::unsqueeze(a, -4), "unsqueeze", "-4");
  EXPECT_OUT_OF_RANGE(xg::narrow(a, 2, 0, 1), "narrow", "2");
  EXPECT_OUT_OF_RANGE(xg::flatten(xg::ones({2, 3, 4}), 0, 3), "flatten", "3");
  EXPECT_OUT_OF_RANGE(xg::permute(a, {0, 2}), "permute", "2");
  EXPECT_OUT_OF_RANGE(xg::cat({a, a}, 2), "cat", "2");
  EXPECT_OUT_OF_RANGE(xg::stack({a, a}, 3), "stack", "3");  // valid: [-3, 2]
  EXPECT_OUT_OF_RANGE(xg::stack({a, a}, -4), "stack", "-4");
  EXPECT_OUT_OF_RANGE(xg::index_select(a, 2, xg::tensor({0}, xg::kInt64)), "index_select", "2");
  // 0-d tensors accept dims 0 and -1 only
  const Tensor s = xg::scalar_tensor(1.0);
  EXPECT_OUT_OF_RANGE(xg::sum(s, {1}), "sum", "1");
  EXPECT_OUT_OF_RANGE(xg::softmax(s, 1), "softmax", "1");
  EXPECT_OUT_OF_RANGE(xg::unsqueeze(s, 2), "unsqueeze", "2");
  // methods
  EXPECT_OUT_OF_RANGE(a.softmax(2), "softmax");
  EXPECT_OUT_OF_RANGE(a.transpose(0, 2), "transpose");
  EXPECT_OUT_OF_RANGE(a.argmax(2), "argmax");
  EXPECT_OUT_OF_RANGE(a.unsqueeze(3), "unsqueeze");
  EXPECT_OUT_OF_RANGE(a.squeeze(2), "squeeze");
}

TEST(Errors, NarrowOutOfRange) {
  const Tensor a = xg::ones({2, 3});
  EXPECT_OUT_OF_RANGE(xg::narrow(a, 1, 2, 2), "narrow", "[2, 3]");
  EXPECT_OUT_OF_RANGE(xg::narrow(a, 1, 4, 0), "narrow", "4");
  EXPECT_OUT_OF_RANGE(xg::narrow(a, 0, 0, 3), "narrow", "3");
  EXPECT_OUT_OF_RANGE(xg::narrow(a, 1, -4, 1), "narrow");
  EXPECT_OUT_OF_RANGE(xg::narrow(a, 1, 0, -1), "narrow");
  EXPECT_OUT_OF_RANGE(a.narrow(1, 1, 3), "narrow");
}

// ---- reading ----------------------------------------------------------------------------------

TEST(Errors, ItemAndDataPtr) {
  EXPECT_INVALID(xg::ones({2}).item(), "item", "[2]");
  EXPECT_INVALID(xg::ones({2, 3}).item<float>(), "item", "[2, 3]");
  EXPECT_INVALID(xg::ones({0}).item(), "item", "[0]");
  EXPECT_INVALID(xg::arange(3).item<std::int64_t>(), "item", "[3]");
  EXPECT_INVALID(xg::ones({2}).data_ptr<std::int64_t>(), "data_ptr", "Float32", "Int64");
  EXPECT_INVALID(xg::ones({2}, xg::kFloat64).data_ptr<float>(), "data_ptr", "Float64", "Float32");
  EXPECT_INVALID(xg::arange(2).data_ptr<double>(), "data_ptr", "Int64", "Float64");
}

TEST(Errors, RequiresGradOnInt64) {
  Tensor i = xg::arange(3);
  EXPECT_INVALID(i.requires_grad_(), "requires_grad", "Int64");
  EXPECT_FALSE(i.requires_grad());
  EXPECT_NO_THROW(i.requires_grad_(false));
  EXPECT_INVALID(xg::zeros({2}, xg::TensorOptions().dtype(xg::kInt64).requires_grad(true)),
                 "Int64");
  EXPECT_INVALID(xg::tensor({1, 2}, xg::TensorOptions().dtype(xg::kInt64).requires_grad(true)),
                 "Int64");
  EXPECT_INVALID(xg::arange(0, 3, 1, xg::TensorOptions().requires_grad(true)), "Int64");
  EXPECT_INVALID(xg::randint(0, 3, {2}, xg::TensorOptions().requires_grad(true)), "Int64");
  EXPECT_INVALID(xg::from_xarray(xt::xarray<std::int64_t>{1, 2}, true), "Int64");
}

// ---- undefined tensors ------------------------------------------------------------------------

TEST(Errors, UndefinedTensorPassedToAnOp) {
  const Tensor u;
  const Tensor a = xg::ones({2});
  EXPECT_INVALID(u + a, "add", "undefined");
  EXPECT_INVALID(a + u, "add", "undefined");
  EXPECT_INVALID(u * 2, "mul", "undefined");
  EXPECT_INVALID(2 - u, "sub", "undefined");
  EXPECT_INVALID(-u, "neg", "undefined");
  for (const auto& op : xg_test::unary_cases()) {
    SCOPED_TRACE(op.name);
    EXPECT_INVALID(op.fn(u), op.name, "undefined");
    EXPECT_INVALID((u.*op.method)(), op.name, "undefined");
  }
  // every op form of the OpInfo table, with each input undefined in turn
  for (const auto& info : xg_test::op_infos()) {
    for (std::size_t i = 0; i < info.domains.size(); ++i) {
      SCOPED_TRACE(info.id + " input " + std::to_string(i));
      std::vector<Tensor> in(info.domains.size(), xg::ones({2, 3}));
      in[i] = u;
      EXPECT_INVALID(info.fn(in), info.op + ":", "undefined");
      if (info.method) EXPECT_INVALID(info.method(in), info.op + ":", "undefined");
    }
  }
  EXPECT_INVALID(xg::pow(u, 2), "pow", "undefined");
  EXPECT_INVALID(xg::pow(a, u), "pow", "undefined");
  EXPECT_INVALID(xg::clamp(u, 0, 1), "clamp", "undefined");
  EXPECT_INVALID(xg::maximum(a, u), "maximum", "undefined");
  EXPECT_INVALID(xg::where(u, a, a), "where", "undefined");
  EXPECT_INVALID(xg::where(a, a, u), "where", "undefined");
  EXPECT_INVALID(xg::eq(u, a), "eq", "undefined");
  EXPECT_INVALID(xg::gt(u, 1), "gt", "undefined");
  EXPECT_INVALID(xg::sum(u), "sum", "undefined");
  EXPECT_INVALID(xg::sum(u, {0}), "sum", "undefined");
  EXPECT_INVALID(xg::mean(u), "mean", "undefined");
  EXPECT_INVALID(xg::max(u), "undefined");
  EXPECT_INVALID(xg::amax(u, {0}), "amax", "undefined");
  EXPECT_INVALID(xg::argmax(u), "argmax", "undefined");
  EXPECT_INVALID(xg::logsumexp(u, {0}), "logsumexp", "undefined");
  EXPECT_INVALID(xg::matmul(u, a), "matmul", "undefined");
  EXPECT_INVALID(xg::matmul(a, u), "matmul", "undefined");
  EXPECT_INVALID(xg::mm(u, u), "mm", "undefined");
  EXPECT_INVALID(xg::t(u), "undefined");
  EXPECT_INVALID(xg::reshape(u, {2}), "reshape", "undefined");
  EXPECT_INVALID(xg::view(u, {2}), "view", "undefined");
  EXPECT_INVALID(xg::flatten(u), "flatten", "undefined");
  EXPECT_INVALID(xg::squeeze(u), "squeeze", "undefined");
  EXPECT_INVALID(xg::unsqueeze(u, 0), "unsqueeze", "undefined");
  EXPECT_INVALID(xg::transpose(u, 0, 1), "transpose", "undefined");
  EXPECT_INVALID(xg::permute(u, {0}), "permute", "undefined");
  EXPECT_INVALID(xg::expand(u, {2}), "expand", "undefined");
  EXPECT_INVALID(xg::cat({a, u}), "cat", "undefined");
  EXPECT_INVALID(xg::stack({u, a}), "stack", "undefined");
  EXPECT_INVALID(xg::narrow(u, 0, 0, 1), "narrow", "undefined");
  EXPECT_INVALID(xg::index_select(u, 0, xg::arange(1)), "index_select", "undefined");
  EXPECT_INVALID(xg::index_select(a, 0, u), "index_select", "undefined");
  EXPECT_INVALID(xg::softmax(u, 0), "softmax", "undefined");
  EXPECT_INVALID(xg::log_softmax(u, 0), "log_softmax", "undefined");
  EXPECT_INVALID(xg::zeros_like(u), "zeros_like", "undefined");
  EXPECT_INVALID(xg::ones_like(u), "ones_like", "undefined");
  // reading an undefined tensor
  EXPECT_INVALID(u.shape(), "shape", "undefined");
  EXPECT_INVALID(u.numel(), "numel", "undefined");
  EXPECT_INVALID(u.dtype(), "dtype", "undefined");
  EXPECT_INVALID(u.item(), "item", "undefined");
  EXPECT_INVALID(u.data_ptr<float>(), "data_ptr", "undefined");
  EXPECT_INVALID(u.clone(), "clone", "undefined");
  EXPECT_INVALID(u.sum(), "sum", "undefined");
  // in place with an undefined other
  Tensor b = xg::ones({2});
  EXPECT_INVALID(b.add_(u), "add_", "undefined");
  EXPECT_INVALID(b.copy_(u), "copy_", "undefined");
  EXPECT_INVALID(b *= u, "mul_", "undefined");
  EXPECT_EQ(values_of(b), (std::vector<double>{1, 1}));
  Tensor uu;
  EXPECT_INVALID(uu.fill_(1), "fill_", "undefined");
  EXPECT_INVALID(uu.zero_(), "undefined");
}

// ---- in place ---------------------------------------------------------------------------------

// Runs an in-place op expected to fail with E, then checks that the tensor kept its values,
// shape, dtype and version.
template <class E>
void expect_failed_inplace(Tensor t, const std::function<void(Tensor&)>& op,
                           const std::vector<std::string>& parts) {
  const std::vector<double> values = values_of(t);
  const Shape shape = t.shape();
  const xg::Dtype dtype = t.dtype();
  const std::uint64_t version = version_of(t);
  expect_error<E>([&] { op(t); }, parts);
  EXPECT_EQ(t.shape(), shape);
  EXPECT_EQ(t.dtype(), dtype);
  EXPECT_EQ(values_of(t), values);
  EXPECT_EQ(version_of(t), version);
}

TEST(Errors, InPlaceShapeGrowth) {
  auto make = [] { return xg::tensor({1, 2, 3}); };
  const Tensor big = xg::ones({2, 3});
  using IA = std::invalid_argument;
  expect_failed_inplace<IA>(make(), [&](Tensor& t) { t.add_(big); }, {"add_", "[3]", "[2, 3]"});
  expect_failed_inplace<IA>(make(), [&](Tensor& t) { t.sub_(big); }, {"sub_", "[3]", "[2, 3]"});
  expect_failed_inplace<IA>(make(), [&](Tensor& t) { t.mul_(big); }, {"mul_", "[3]", "[2, 3]"});
  expect_failed_inplace<IA>(make(), [&](Tensor& t) { t.div_(big); }, {"div_", "[3]", "[2, 3]"});
  expect_failed_inplace<IA>(make(), [&](Tensor& t) { t += big; }, {"add_", "[3]", "[2, 3]"});
  expect_failed_inplace<IA>(make(), [&](Tensor& t) { t -= big; }, {"sub_", "[3]", "[2, 3]"});
  expect_failed_inplace<IA>(make(), [&](Tensor& t) { t *= big; }, {"mul_", "[3]", "[2, 3]"});
  expect_failed_inplace<IA>(make(), [&](Tensor& t) { t /= big; }, {"div_", "[3]", "[2, 3]"});
  expect_failed_inplace<IA>(make(), [&](Tensor& t) { t.copy_(big); }, {"copy_", "[3]", "[2, 3]"});
  // shapes that do not broadcast at all
  const Tensor four = xg::ones({4});
  expect_failed_inplace<IA>(make(), [&](Tensor& t) { t.add_(four); }, {"add_", "[3]", "[4]"});
  expect_failed_inplace<IA>(make(), [&](Tensor& t) { t.copy_(four); }, {"copy_", "[3]", "[4]"});
  // a column into a row: [1, 3] op [2, 1] would be [2, 3]
  expect_failed_inplace<IA>(xg::ones({1, 3}),
                            [&](Tensor& t) {
                              t.mul_(xg::ones({2, 1}));
                            },
                            {"mul_", "[1, 3]", "[2, 1]"});
}

TEST(Errors, InPlaceFloatIntoInt64) {
  auto make = [] { return xg::tensor({4, -6, 8}, xg::kInt64); };
  const Tensor f = xg::tensor({1, 2, 3});
  const Tensor i = xg::tensor({1, 2, 3}, xg::kInt64);
  using IA = std::invalid_argument;
  expect_failed_inplace<IA>(make(), [&](Tensor& t) { t.add_(f); }, {"add_", "Int64", "Float32"});
  expect_failed_inplace<IA>(make(), [&](Tensor& t) { t.sub_(f); }, {"sub_", "Int64"});
  expect_failed_inplace<IA>(make(), [&](Tensor& t) { t.mul_(f); }, {"mul_", "Int64"});
  expect_failed_inplace<IA>(make(), [&](Tensor& t) { t.div_(f); }, {"div_", "Int64"});
  expect_failed_inplace<IA>(make(), [&](Tensor& t) { t.add_(xg::ones({3}, xg::kFloat64)); },
                            {"add_", "Int64", "Float64"});
  // true division of integers gives Float32
  expect_failed_inplace<IA>(make(), [&](Tensor& t) { t.div_(i); }, {"div_", "Int64"});
  expect_failed_inplace<IA>(make(), [&](Tensor& t) { t /= 2; }, {"div_", "Int64"});
  // floating scalars
  expect_failed_inplace<IA>(make(), [&](Tensor& t) { t += 0.5; }, {"add_", "Int64"});
  expect_failed_inplace<IA>(make(), [&](Tensor& t) { t -= 0.5; }, {"sub_", "Int64"});
  expect_failed_inplace<IA>(make(), [&](Tensor& t) { t *= 0.5; }, {"mul_", "Int64"});
  expect_failed_inplace<IA>(make(), [&](Tensor& t) { t.add_(0.5); }, {"add_", "Int64"});
  // What does fit: integers into Int64, anything into a floating tensor.
  Tensor ok = make();
  ok.add_(i);
  ok *= 2;
  ok -= 1;
  EXPECT_EQ(ok.dtype(), xg::kInt64);
  EXPECT_EQ(values_of(ok), (std::vector<double>{9, -9, 21}));
  Tensor fl = xg::tensor({1, 2, 3});
  fl.add_(i);
  fl /= i;
  EXPECT_EQ(fl.dtype(), xg::kFloat32);
  EXPECT_EQ(values_of(fl), (std::vector<double>{2, 2, 2}));
  Tensor f32 = xg::tensor({1, 2, 3});
  f32.add_(xg::ones({3}, xg::kFloat64));  // the dtype never changes in place
  EXPECT_EQ(f32.dtype(), xg::kFloat32);
}

TEST(Errors, InPlaceOnLeafRequiringGrad) {
  auto make = [] { return xg::tensor({1, 2, 3}, xg::requires_grad()); };
  const Tensor other = xg::ones({3});
  using RE = std::runtime_error;
  ASSERT_TRUE(xg::GradMode::is_enabled());
  expect_failed_inplace<RE>(make(), [](Tensor& t) { t.zero_(); }, {"[3]"});
  expect_failed_inplace<RE>(make(), [](Tensor& t) { t.fill_(5); }, {"fill_", "[3]"});
  expect_failed_inplace<RE>(make(), [&](Tensor& t) { t.add_(other); }, {"add_", "[3]"});
  expect_failed_inplace<RE>(make(), [&](Tensor& t) { t.sub_(other, 2); }, {"sub_", "[3]"});
  expect_failed_inplace<RE>(make(), [&](Tensor& t) { t.mul_(other); }, {"mul_", "[3]"});
  expect_failed_inplace<RE>(make(), [&](Tensor& t) { t.div_(other); }, {"div_", "[3]"});
  expect_failed_inplace<RE>(make(), [&](Tensor& t) { t.copy_(other); }, {"copy_", "[3]"});
  expect_failed_inplace<RE>(make(), [](Tensor& t) { t += 1; }, {"add_", "[3]"});
  expect_failed_inplace<RE>(make(), [](Tensor& t) { t -= 1.5; }, {"sub_", "[3]"});
  expect_failed_inplace<RE>(make(), [](Tensor& t) { t *= 2; }, {"mul_", "[3]"});
  expect_failed_inplace<RE>(make(), [](Tensor& t) { t /= 2; }, {"div_", "[3]"});

  // Under NoGradGuard the same updates work, and each bumps the version.
  Tensor w = make();
  {
    xg::NoGradGuard no_grad;
    EXPECT_FALSE(xg::GradMode::is_enabled());
    std::uint64_t v = version_of(w);
    w.sub_(other, 2);  // [-1, 0, 1]
    EXPECT_GT(version_of(w), v);
    v = version_of(w);
    w *= 4;  // [-4, 0, 4]
    EXPECT_GT(version_of(w), v);
    w.add_(xg::tensor({1, 1, 1}));  // [-3, 1, 5]
    w /= xg::tensor({3, 1, 5});     // [-1, 1, 1]
    w -= 1;                         // [-2, 0, 0]
    w += 0.5;                       // [-1.5, 0.5, 0.5]
    EXPECT_EQ(values_of(w), (std::vector<double>{-1.5, 0.5, 0.5}));
    v = version_of(w);
    w.copy_(xg::tensor({7}));
    EXPECT_GT(version_of(w), v);
    EXPECT_EQ(values_of(w), (std::vector<double>{7, 7, 7}));
    w.fill_(2);
    EXPECT_EQ(values_of(w), (std::vector<double>{2, 2, 2}));
    w.zero_();
    EXPECT_EQ(values_of(w), (std::vector<double>{0, 0, 0}));
  }
  EXPECT_TRUE(xg::GradMode::is_enabled());
  EXPECT_TRUE(w.requires_grad());
  expect_failed_inplace<RE>(w, [](Tensor& t) { t.fill_(1); }, {"fill_"});  // guard restored
  // A detach()ed copy shares the data and may be changed.
  Tensor d = w.detach();
  d.fill_(3);
  EXPECT_EQ(values_of(w), (std::vector<double>{3, 3, 3}));
}

// zero_(), zeros() and ones() are built on fill_ and full, yet their errors name the op the user
// called (zeros: the negative-size case of test_error_messages.cpp).
TEST(Errors, WrapperOpsNameThemselves) {
  EXPECT_INVALID(xg::ones({-3}), "ones", "[-3]");
  Tensor u;
  EXPECT_INVALID(u.zero_(), "zero_", "undefined");
  expect_failed_inplace<std::runtime_error>(xg::tensor({1, 2, 3}, xg::requires_grad()),
                                            [](Tensor& t) { t.zero_(); }, {"zero_", "[3]"});
}

TEST(Errors, FailedOpsLeaveInputsUnchanged) {
  // Out-of-place ops that throw leave their inputs as they were.
  const Tensor a = xg::tensor({1, 2, 3, 4, 5, 6}, {2, 3});
  const std::uint64_t v = version_of(a);
  EXPECT_ANY_THROW(a + xg::ones({4}));
  EXPECT_ANY_THROW(xg::matmul(a, a));
  EXPECT_ANY_THROW(xg::cat({a, xg::ones({1, 2})}, 0));
  EXPECT_ANY_THROW(xg::reshape(a, {4}));
  EXPECT_ANY_THROW(xg::sum(a, {3}));
  EXPECT_EQ(a.shape(), (Shape{2, 3}));
  EXPECT_EQ(values_of(a), (std::vector<double>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(version_of(a), v);
}

}  // namespace

// PyTorch's softmax and log_softmax refuse integer input (no Float32 default there).
TEST(Errors, SoftmaxOfInt64) {
  const Tensor i = xg::arange(6).reshape({2, 3});
  EXPECT_INVALID(xg::softmax(i, 1), "softmax", "[2, 3]", "Int64");
  EXPECT_INVALID(xg::log_softmax(i, 1), "log_softmax", "[2, 3]", "Int64");
}

// The check macros throw exactly the named type, with the parts joined in order, and do not
// evaluate the parts when the condition holds.
TEST(CheckMacros, ThrowTheNamedTypeWithThePartsJoined) {
  auto message_of = [](auto&& fn) -> std::string {
    try {
      fn();
    } catch (const std::exception& e) {
      return e.what();
    }
    return "(nothing thrown)";
  };
  const std::int64_t dim = -3;
  const std::size_t n = 2;
  auto arg = [&] { XG_CHECK_ARG(dim >= 0, "op: dim ", dim, " of ", n, ' ', std::string("dims")); };
  EXPECT_EQ(message_of(arg), "op: dim -3 of 2 dims");
  EXPECT_THROW(arg(), std::invalid_argument);
  try {
    XG_CHECK_RANGE(false, "r");
    ADD_FAILURE() << "nothing thrown";
  } catch (const std::exception& e) {
    EXPECT_EQ(typeid(e), typeid(std::out_of_range));
  }
  try {
    XG_CHECK_STATE(false, "s");
    ADD_FAILURE() << "nothing thrown";
  } catch (const std::exception& e) {
    EXPECT_EQ(typeid(e), typeid(std::runtime_error));
  }
  try {
    XG_CHECK_LOGIC(false, "l");
    ADD_FAILURE() << "nothing thrown";
  } catch (const std::exception& e) {
    EXPECT_EQ(typeid(e), typeid(std::logic_error));
  }
  int evaluated = 0;
  auto part = [&] {
    ++evaluated;
    return std::string("x");
  };
  XG_CHECK_ARG(true, "never built: ", part());
  EXPECT_EQ(evaluated, 0);
  EXPECT_THROW(XG_CHECK_ARG(false, part()), std::invalid_argument);
  EXPECT_EQ(evaluated, 1);
}

// The catalogue's three number formats: std::to_string's fixed six decimals, the stream's %g,
// and the fixed form with trailing zeros dropped.
TEST(CheckMacros, NumberFormats) {
  EXPECT_EQ(xg::detail::fixed6(-0.1), "-0.100000");
  EXPECT_EQ(xg::detail::fixed6(1.5), "1.500000");
  EXPECT_EQ(xg::detail::general6(-0.1), "-0.1");
  EXPECT_EQ(xg::detail::general6(1e-8), "1e-08");
  EXPECT_EQ(xg::detail::general6(1.5), "1.5");
  EXPECT_EQ(xg::detail::trimmed(-1.0), "-1");
  EXPECT_EQ(xg::detail::trimmed(1.5), "1.5");
  EXPECT_EQ(xg::detail::trimmed(0.0), "0");
}
