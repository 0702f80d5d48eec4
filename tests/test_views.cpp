// Tensors as strided views over shared storage, as in PyTorch.
//
// 1. A table of PyTorch results for chains of view ops (tests/reference/view_reference.inc, made
//    by tests/reference/make_view_reference.py): sizes, strides, storage offset, contiguity,
//    whether the result aliases the input, its values, and the input after a write through it.
// 2. Hand-computed checks: writes through views and into bases, the shared version counter,
//    view errors, contiguous(), data_ptr, as_strided bounds, detach, split/chunk/unbind pieces.
// 3. gradcheck through every view op and through ops on non-contiguous operands.
// 4. Kernels on strided operands (transposed, sliced with a step, expanded, overlapping, ...):
//    each op on a view must give what it gives on view.contiguous().
#include <gtest/gtest.h>

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>
#include <xgrad/xgrad.hpp>

#include "unary_cases.hpp"

namespace {

using xg::Shape;
using xg::Tensor;

constexpr std::int64_t kNone = std::numeric_limits<std::int64_t>::min();  // the table's None
constexpr auto N = std::nullopt;

// ---- helpers ----------------------------------------------------------------------------------

std::vector<double> values(const Tensor& t) {  // row-major, through to_xarray
  const xt::xarray<double> a = t.to_xarray<double>();
  return std::vector<double>(a.begin(), a.end());
}

std::vector<double> iota(std::int64_t n, double start = 0) {
  std::vector<double> v;
  for (std::int64_t i = 0; i < n; ++i) v.push_back(start + static_cast<double>(i));
  return v;
}

Tensor iota_tensor(std::int64_t n, const Shape& shape, xg::Dtype dtype = xg::kFloat32) {
  return xg::tensor(iota(n), shape, xg::dtype(dtype));
}

// The values in row-major order read straight from memory through sizes, strides and data_ptr
// (the first element): independent of every kernel, including to_xarray and contiguous.
template <class T>
std::vector<double> read_strided_as(const Tensor& t) {
  std::vector<double> out;
  if (t.numel() == 0) return out;
  const Shape sizes = t.sizes();
  const Shape strides = t.stride();
  const T* first = t.data_ptr<T>();
  std::vector<std::int64_t> idx(sizes.size(), 0);
  for (std::int64_t i = 0; i < t.numel(); ++i) {
    std::int64_t offset = 0;
    for (std::size_t d = 0; d < sizes.size(); ++d) offset += idx[d] * strides[d];
    out.push_back(static_cast<double>(first[offset]));
    for (std::size_t d = sizes.size(); d-- > 0;) {
      if (++idx[d] < sizes[d]) break;
      idx[d] = 0;
    }
  }
  return out;
}

std::vector<double> read_strided(const Tensor& t) {
  switch (t.dtype()) {
    case xg::Dtype::Float32:
      return read_strided_as<float>(t);
    case xg::Dtype::Float64:
      return read_strided_as<double>(t);
    case xg::Dtype::Int64:
      return read_strided_as<std::int64_t>(t);
    case xg::Dtype::Bool:
      return read_strided_as<bool>(t);
  }
  return {};
}

const char* byte_ptr(const Tensor& t) {
  switch (t.dtype()) {
    case xg::Dtype::Float32:
      return reinterpret_cast<const char*>(t.data_ptr<float>());
    case xg::Dtype::Float64:
      return reinterpret_cast<const char*>(t.data_ptr<double>());
    case xg::Dtype::Int64:
      return reinterpret_cast<const char*>(t.data_ptr<std::int64_t>());
    case xg::Dtype::Bool:
      return reinterpret_cast<const char*>(t.data_ptr<bool>());
  }
  return nullptr;
}

Shape contiguous_strides(const Shape& sizes) {  // PyTorch's: size-1 dims count as 1
  Shape strides(sizes.size());
  std::int64_t s = 1;
  for (std::size_t d = sizes.size(); d-- > 0;) {
    strides[d] = s;
    s *= std::max<std::int64_t>(sizes[d], 1);
  }
  return strides;
}

// Calls f, which must throw std::invalid_argument whose message contains every part.
template <class F>
void expect_invalid_argument(F&& f, const std::vector<std::string>& parts) {
  try {
    f();
    ADD_FAILURE() << "did not throw";
  } catch (const std::invalid_argument& e) {
    for (const std::string& p : parts) {
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos)
          << "message lacks \"" << p << "\": " << e.what();
    }
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw another type than std::invalid_argument: " << e.what();
  }
}

// Same shape and dtype; values equal (rtol == 0: exactly, NaN matching NaN) or within
// rtol * (1 + |want|).
void expect_close(const Tensor& got, const Tensor& want, double rtol, const std::string& what) {
  SCOPED_TRACE(what);
  ASSERT_EQ(got.sizes(), want.sizes());
  EXPECT_EQ(got.dtype(), want.dtype());
  const std::vector<double> g = values(got), w = values(want);
  ASSERT_EQ(g.size(), w.size());
  for (std::size_t i = 0; i < g.size(); ++i) {
    if (g[i] == w[i] || (std::isnan(g[i]) && std::isnan(w[i]))) continue;
    if (rtol == 0) {
      ADD_FAILURE() << "element " << i << ": " << g[i] << " != " << w[i];
    } else {
      EXPECT_LE(std::abs(g[i] - w[i]), rtol * (1 + std::abs(w[i])))
          << "element " << i << ": " << g[i] << " vs " << w[i];
    }
  }
}

// ---- 1. the PyTorch reference table -----------------------------------------------------------

struct RawInput {
  std::initializer_list<std::int64_t> shape;
  xg::Dtype dtype;
  std::initializer_list<double> values;
};

struct RawStep {
  const char* op;
  std::initializer_list<std::int64_t> args;
};

struct RawViewCase {
  const char* name;
  RawInput input;
  std::initializer_list<RawStep> steps;
  std::initializer_list<const char*> error;  // message parts when the last step throws
  std::initializer_list<std::int64_t> sizes;
  std::initializer_list<std::int64_t> strides;
  std::int64_t storage_offset;
  bool is_contiguous;
  bool aliases_input;
  std::initializer_list<double> values;
  std::initializer_list<double> input_after_add;  // {} when PyTorch refuses the write
};

constexpr RawViewCase kRawViewCases[] = {
#include "reference/view_reference.inc"
};

struct Step {
  std::string op;
  std::vector<std::int64_t> args;
};

struct ViewCase {
  std::string name;
  Shape input_shape;
  xg::Dtype dtype;
  std::vector<double> input_values;
  std::vector<Step> steps;
  std::vector<std::string> error;
  Shape sizes, strides;
  std::int64_t storage_offset;
  bool is_contiguous, aliases_input;
  std::vector<double> values, input_after_add;
};

const std::vector<ViewCase>& view_cases() {
  static const std::vector<ViewCase> cases = [] {
    std::vector<ViewCase> out;
    for (const RawViewCase& r : kRawViewCases) {
      ViewCase c{r.name,
                 Shape(r.input.shape),
                 r.input.dtype,
                 std::vector<double>(r.input.values),
                 {},
                 {},
                 Shape(r.sizes),
                 Shape(r.strides),
                 r.storage_offset,
                 r.is_contiguous,
                 r.aliases_input,
                 std::vector<double>(r.values),
                 std::vector<double>(r.input_after_add)};
      for (const RawStep& s : r.steps) c.steps.push_back({s.op, std::vector<std::int64_t>(s.args)});
      for (const char* e : r.error) c.error.emplace_back(e);
      out.push_back(std::move(c));
    }
    return out;
  }();
  return cases;
}

std::optional<std::int64_t> opt(std::int64_t v) {
  if (v == kNone) return std::nullopt;
  return v;
}

// Applies one step of a chain: as the Tensor method, or (method == false) as the free function
// (mT, expand_as and detach are methods only, as in LibTorch's free-function API).
Tensor apply_step(const Tensor& x, const Step& step, bool method) {
  const std::string& op = step.op;
  const std::vector<std::int64_t>& a = step.args;
  const auto from = [&](std::size_t i) {
    return Shape(a.begin() + static_cast<std::ptrdiff_t>(i), a.end());
  };
  if (op == "view") return method ? x.view(a) : xg::view(x, a);
  if (op == "reshape") return method ? x.reshape(a) : xg::reshape(x, a);
  if (op == "flatten")
    return method ? x.flatten(a.at(0), a.at(1)) : xg::flatten(x, a.at(0), a.at(1));
  if (op == "transpose") {
    return method ? x.transpose(a.at(0), a.at(1)) : xg::transpose(x, a.at(0), a.at(1));
  }
  if (op == "t") return method ? x.t() : xg::t(x);
  if (op == "mT") return x.mT();
  if (op == "permute") return method ? x.permute(a) : xg::permute(x, a);
  if (op == "narrow") {
    return method ? x.narrow(a.at(0), a.at(1), a.at(2)) : xg::narrow(x, a.at(0), a.at(1), a.at(2));
  }
  if (op == "select") return method ? x.select(a.at(0), a.at(1)) : xg::select(x, a.at(0), a.at(1));
  if (op == "slice") {
    return method ? x.slice(a.at(0), opt(a.at(1)), opt(a.at(2)), a.at(3))
                  : xg::slice(x, a.at(0), opt(a.at(1)), opt(a.at(2)), a.at(3));
  }
  if (op == "expand") return method ? x.expand(a) : xg::expand(x, a);
  if (op == "expand_as") {
    const Tensor other = xg::zeros(a, xg::dtype(x.dtype()));
    return x.expand_as(other);
  }
  if (op == "squeeze") {
    if (a.empty()) return method ? x.squeeze() : xg::squeeze(x);
    return method ? x.squeeze(a.at(0)) : xg::squeeze(x, a.at(0));
  }
  if (op == "unsqueeze") return method ? x.unsqueeze(a.at(0)) : xg::unsqueeze(x, a.at(0));
  if (op == "split") {
    return (method ? x.split(a.at(0), a.at(1)) : xg::split(x, a.at(0), a.at(1))).at(a.at(2));
  }
  if (op == "split_with_sizes") {
    return (method ? x.split_with_sizes(from(2), a.at(0))
                   : xg::split_with_sizes(x, from(2), a.at(0)))
        .at(a.at(1));
  }
  if (op == "chunk") {
    return (method ? x.chunk(a.at(0), a.at(1)) : xg::chunk(x, a.at(0), a.at(1))).at(a.at(2));
  }
  if (op == "unbind") return (method ? x.unbind(a.at(0)) : xg::unbind(x, a.at(0))).at(a.at(1));
  if (op == "as_strided") {
    const std::size_t n = (a.size() - 1) / 2;
    const Shape size(a.begin(), a.begin() + static_cast<std::ptrdiff_t>(n));
    const Shape stride(a.begin() + static_cast<std::ptrdiff_t>(n),
                       a.begin() + static_cast<std::ptrdiff_t>(2 * n));
    return method ? x.as_strided(size, stride, opt(a.back()))
                  : xg::as_strided(x, size, stride, opt(a.back()));
  }
  if (op == "diagonal") {
    return method ? x.diagonal(a.at(0), a.at(1), a.at(2))
                  : xg::diagonal(x, a.at(0), a.at(1), a.at(2));
  }
  if (op == "unflatten")
    return method ? x.unflatten(a.at(0), from(1)) : xg::unflatten(x, a.at(0), from(1));
  if (op == "contiguous") return method ? x.contiguous() : xg::contiguous(x);
  if (op == "detach") return x.detach();
  throw std::logic_error("apply_step: unknown op " + op);
}

Tensor make_input(const ViewCase& c) {
  return xg::tensor(c.input_values, c.input_shape, xg::dtype(c.dtype));
}

Tensor replay(const ViewCase& c, const Tensor& input, std::size_t nsteps, bool method) {
  Tensor y = input;
  for (std::size_t i = 0; i < nsteps; ++i) y = apply_step(y, c.steps[i], method);
  return y;
}

class ViewReference : public ::testing::TestWithParam<std::size_t> {};

TEST_P(ViewReference, MatchesPyTorch) {
  const ViewCase& c = view_cases()[GetParam()];
  SCOPED_TRACE("reference case " + c.name);
  for (bool method : {true, false}) {
    SCOPED_TRACE(method ? "as Tensor methods" : "as free functions");
    const Tensor input = make_input(c);
    ASSERT_TRUE(input.is_contiguous());
    ASSERT_EQ(input.storage_offset(), 0);
    const auto version = input._version();
    if (!c.error.empty()) {  // the last step throws; the ones before it work
      Tensor y;
      ASSERT_NO_THROW(y = replay(c, input, c.steps.size() - 1, method));
      expect_invalid_argument([&] { (void)apply_step(y, c.steps.back(), method); }, c.error);
      EXPECT_EQ(values(input), c.input_values);  // a call that throws changes nothing
      EXPECT_EQ(input._version(), version);
      continue;
    }
    Tensor out;
    try {
      out = replay(c, input, c.steps.size(), method);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "threw: " << e.what();
      continue;
    }
    EXPECT_EQ(out.sizes(), c.sizes);
    EXPECT_EQ(out.dim(), static_cast<std::int64_t>(c.sizes.size()));
    EXPECT_EQ(out.stride(), c.strides);
    for (std::size_t d = 0; d < c.strides.size(); ++d) {
      const auto dim = static_cast<std::int64_t>(d);
      EXPECT_EQ(out.stride(dim), c.strides[d]) << "stride(" << dim << ")";
      EXPECT_EQ(out.stride(dim - out.dim()), c.strides[d]) << "stride(" << dim - out.dim() << ")";
    }
    EXPECT_EQ(out.storage_offset(), c.storage_offset);
    EXPECT_EQ(out.is_contiguous(), c.is_contiguous);
    EXPECT_EQ(out.is_alias_of(input), c.aliases_input);
    EXPECT_EQ(input.is_alias_of(out), c.aliases_input);
    EXPECT_EQ(out.dtype(), c.dtype);
    EXPECT_EQ(out.numel(), static_cast<std::int64_t>(c.values.size()));
    EXPECT_EQ(values(out), c.values);
    if (out.numel() > 0) {
      EXPECT_EQ(read_strided(out), c.values) << "reading memory through the strides";
      if (c.aliases_input) {
        EXPECT_EQ(byte_ptr(out),
                  byte_ptr(input) +
                      out.storage_offset() * static_cast<std::int64_t>(xg::element_size(c.dtype)));
      }
    }
    EXPECT_EQ(values(input), c.input_values);  // views never change their input
    EXPECT_EQ(input._version(), version);
  }
}

// The result's contiguous(): the result itself when contiguous, else a contiguous copy.
TEST_P(ViewReference, ContiguousOfResult) {
  const ViewCase& c = view_cases()[GetParam()];
  if (!c.error.empty()) GTEST_SKIP() << "an error case";
  const Tensor input = make_input(c);
  const Tensor out = replay(c, input, c.steps.size(), true);
  const Tensor cont = out.contiguous();
  EXPECT_TRUE(cont.is_contiguous());
  EXPECT_EQ(cont.sizes(), c.sizes);
  EXPECT_EQ(values(cont), c.values);
  if (c.is_contiguous) {
    EXPECT_TRUE(cont.is_alias_of(out));
    EXPECT_EQ(cont.storage_offset(), out.storage_offset());
    EXPECT_EQ(cont.stride(), out.stride());
    if (out.numel() > 0) {
      EXPECT_EQ(byte_ptr(cont), byte_ptr(out));
    }
  } else {
    EXPECT_FALSE(cont.is_alias_of(out));
    EXPECT_FALSE(cont.is_alias_of(input));
    EXPECT_EQ(cont.stride(), contiguous_strides(c.sizes));
    EXPECT_EQ(cont.storage_offset(), 0);
    if (cont.numel() > 0) {
      EXPECT_EQ(read_strided(cont), c.values);
    }
  }
}

// out.add_(100) reaches exactly the input elements PyTorch's does, and bumps the input's
// version when (and only when) out aliases it.
TEST_P(ViewReference, WritesReachTheInput) {
  const ViewCase& c = view_cases()[GetParam()];
  if (!c.error.empty()) GTEST_SKIP() << "an error case";
  if (c.input_after_add.empty()) GTEST_SKIP() << "PyTorch refuses writes into overlapping views";
  const Tensor input = make_input(c);
  Tensor out = replay(c, input, c.steps.size(), true);
  const auto version = input._version();
  const auto out_version = out._version();
  out.add_(100);
  EXPECT_EQ(values(input), c.input_after_add);
  std::vector<double> plus = c.values;
  for (double& v : plus) v += 100;
  if (c.aliases_input) {
    // Read back through out's own geometry from PyTorch's input after the write: an
    // overlapping as_strided view adds 100 once per index that reaches an element.
    std::vector<double> expected;
    const Shape sizes = out.sizes(), strides = out.stride();
    for (std::int64_t i = 0; i < out.numel(); ++i) {
      std::int64_t pos = out.storage_offset() - input.storage_offset(), rest = i;
      for (std::size_t d = sizes.size(); d-- > 0;) {
        pos += (rest % sizes[d]) * strides[d];
        rest /= sizes[d];
      }
      expected.push_back(c.input_after_add[static_cast<std::size_t>(pos)]);
    }
    EXPECT_EQ(values(out), expected);
  } else {
    EXPECT_EQ(values(out), plus);
  }
  if (c.aliases_input) {
    EXPECT_EQ(input._version(), version + 1);
    EXPECT_EQ(out._version(), input._version());
  } else {
    EXPECT_EQ(input._version(), version);
    EXPECT_EQ(out._version(), out_version + 1);
  }
}

std::string view_case_name(const ::testing::TestParamInfo<std::size_t>& info) {
  return view_cases().at(info.param).name;
}

INSTANTIATE_TEST_SUITE_P(Table, ViewReference,
                         ::testing::Range<std::size_t>(0, view_cases().size()), view_case_name);

TEST(ViewReferenceTable, CoversEveryViewOp) {
  const char* ops[] = {"view",    "reshape",   "flatten",    "transpose",
                       "t",       "mT",        "permute",    "narrow",
                       "select",  "slice",     "expand",     "expand_as",
                       "squeeze", "unsqueeze", "split",      "split_with_sizes",
                       "chunk",   "unbind",    "as_strided", "contiguous",
                       "detach",  "diagonal",  "unflatten"};
  for (const char* op : ops) {
    bool found = false;
    for (const ViewCase& c : view_cases()) {
      for (const Step& s : c.steps) found = found || s.op == op;
    }
    EXPECT_TRUE(found) << op;
  }
  int copies = 0, errors = 0, non_f32 = 0;
  for (const ViewCase& c : view_cases()) {
    copies += c.error.empty() && !c.aliases_input;
    errors += !c.error.empty();
    non_f32 += c.dtype != xg::kFloat32;
  }
  EXPECT_GE(copies, 5);
  EXPECT_GE(errors, 5);
  EXPECT_GE(non_f32, 4);
}

// ---- 2. hand-computed checks ------------------------------------------------------------------

// Writes through views land in the base.

TEST(Views, FillThroughTransposedSelect) {
  Tensor x = iota_tensor(12, {3, 4});
  x.transpose(0, 1).select(0, 1).fill_(7);  // column 1 of x
  std::vector<double> want = iota(12);
  for (int i = 0; i < 3; ++i) want[i * 4 + 1] = 7;
  EXPECT_EQ(values(x), want);
}

TEST(Views, AddThroughPermutedNarrowedSlice) {
  Tensor x = iota_tensor(24, {2, 3, 4});
  Tensor v = x.permute({2, 0, 1}).narrow(0, 1, 2).slice(2, 0, N, 2);  // c in {1,2}, b in {0,2}
  EXPECT_EQ(v.sizes(), (Shape{2, 2, 2}));
  v.add_(100);
  std::vector<double> want = iota(24);
  for (int a = 0; a < 2; ++a) {
    for (int b = 0; b < 3; ++b) {
      for (int c = 0; c < 4; ++c) {
        if ((c == 1 || c == 2) && (b == 0 || b == 2)) want[a * 12 + b * 4 + c] += 100;
      }
    }
  }
  EXPECT_EQ(values(x), want);
}

TEST(Views, InPlaceOpsWithStridedOperandsAndDestinations) {
  Tensor x = iota_tensor(12, {3, 4});
  std::vector<double> want = iota(12);
  x.t().mul_(xg::tensor({1, 2, 3}));  // x.t() is [4, 3]: x[i][j] *= i + 1
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 4; ++j) want[i * 4 + j] *= i + 1;
  }
  EXPECT_EQ(values(x), want);
  const Tensor y = iota_tensor(6, {2, 3});
  x.narrow(1, 0, 2).copy_(y.t());  // x[i][j] = y[j][i] for j < 2
  for (int i = 0; i < 3; ++i) {
    for (int j = 0; j < 2; ++j) want[i * 4 + j] = j * 3 + i;
  }
  EXPECT_EQ(values(x), want);
  x.slice(0, 0, N, 2).zero_();  // rows 0 and 2
  for (int j = 0; j < 4; ++j) want[j] = want[8 + j] = 0;
  EXPECT_EQ(values(x), want);
  x.select(1, 3).sub_(xg::tensor({1, 2, 3}), 2);  // column 3 -= 2 * (i + 1)
  for (int i = 0; i < 3; ++i) want[i * 4 + 3] -= 2 * (i + 1);
  EXPECT_EQ(values(x), want);
  x.t().narrow(0, 2, 1).div_(4);  // column 2 /= 4
  for (int i = 0; i < 3; ++i) want[i * 4 + 2] /= 4;
  EXPECT_EQ(values(x), want);
}

TEST(Views, WritesThroughSplitChunkUnbindPieces) {
  Tensor x = xg::zeros({3, 4});
  std::vector<double> want(12, 0.0);
  x.split(2, 1)[1].fill_(9);  // columns 2, 3
  for (int i = 0; i < 3; ++i) want[i * 4 + 2] = want[i * 4 + 3] = 9;
  x.unbind(0)[2].add_(1);  // row 2
  for (int j = 0; j < 4; ++j) want[8 + j] += 1;
  x.chunk(3, 0)[1].fill_(-1);  // row 1
  for (int j = 0; j < 4; ++j) want[4 + j] = -1;
  x.split_with_sizes({1, 3}, 1)[0].fill_(5);  // column 0
  for (int i = 0; i < 3; ++i) want[i * 4] = 5;
  EXPECT_EQ(values(x), want);
  xg::unbind(x, 1)[1].mul_(2);  // column 1
  for (int i = 0; i < 3; ++i) want[i * 4 + 1] *= 2;
  EXPECT_EQ(values(x), want);
}

TEST(Views, WriteThroughAsStrided) {
  Tensor x = xg::zeros({12});
  x.as_strided({2, 2}, {4, 1}, 1).fill_(-5);  // storage positions 1, 2, 5, 6
  std::vector<double> want(12, 0.0);
  for (int p : {1, 2, 5, 6}) want[p] = -5;
  EXPECT_EQ(values(x), want);
  // on a view, the offset defaults to the view's and bounds are the storage's
  x.view({3, 4}).narrow(0, 2, 1).as_strided({2}, {2}).fill_(3);  // positions 8, 10
  want[8] = want[10] = 3;
  EXPECT_EQ(values(x), want);
}

TEST(Views, BaseWritesAreSeenThroughViews) {
  Tensor x = xg::zeros({3, 4});
  const Tensor tv = x.t();
  const Tensor row1 = x.narrow(0, 1, 1);
  const Tensor col2 = x.select(1, 2);
  const Tensor e = x.select(1, 0).unsqueeze(1).expand({3, 5});
  const Tensor step = x.view({12}).slice(0, 1, N, 5);  // positions 1, 6, 11
  x.copy_(iota_tensor(12, {3, 4}));
  EXPECT_EQ(values(tv), (std::vector<double>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}));
  EXPECT_EQ(values(row1), (std::vector<double>{4, 5, 6, 7}));
  EXPECT_EQ(values(col2), (std::vector<double>{2, 6, 10}));
  EXPECT_EQ(values(e), (std::vector<double>{0, 0, 0, 0, 0, 4, 4, 4, 4, 4, 8, 8, 8, 8, 8}));
  EXPECT_EQ(values(step), (std::vector<double>{1, 6, 11}));
  x.add_(1);
  EXPECT_EQ(values(col2), (std::vector<double>{3, 7, 11}));
  EXPECT_EQ(values(step), (std::vector<double>{2, 7, 12}));
  x.select(0, 2).fill_(-2);
  EXPECT_EQ(values(tv.select(1, 2)), (std::vector<double>{-2, -2, -2, -2}));
  EXPECT_EQ(values(e.select(0, 2)), (std::vector<double>(5, -2.0)));
}

TEST(Views, TwoViewsSeeEachOthersWrites) {
  Tensor x = xg::zeros({3, 4});
  Tensor a = x.t();
  Tensor b = x.narrow(1, 1, 2);
  Tensor flat = x.view({12});
  a.select(0, 1).fill_(-1);  // column 1 of x
  EXPECT_EQ(values(b.select(1, 0)), (std::vector<double>{-1, -1, -1}));
  b.select(1, 1).add_(2);  // column 2 of x
  EXPECT_EQ(values(a.select(0, 2)), (std::vector<double>{2, 2, 2}));
  flat.narrow(0, 4, 4).fill_(3);  // row 1 of x
  EXPECT_EQ(values(a.select(1, 1)), (std::vector<double>{3, 3, 3, 3}));
  EXPECT_EQ(values(b), (std::vector<double>{-1, 2, 3, 3, -1, 2}));
  EXPECT_EQ(values(x), (std::vector<double>{0, -1, 2, 0, 3, 3, 3, 3, 0, -1, 2, 0}));
}

TEST(Views, WritesToACopyDoNotReachTheBase) {
  Tensor x = iota_tensor(12, {3, 4});
  Tensor copies[] = {x.t().contiguous(), x.t().reshape({12}), x.t().flatten(),
                     x.clone(),          x.t().clone(),       x.narrow(1, 0, 2).reshape({6})};
  for (Tensor& c : copies) {
    EXPECT_FALSE(c.is_alias_of(x));
    c.fill_(-9);
  }
  EXPECT_EQ(values(x), iota(12));
}

// The version counter belongs to the storage: an in-place op through any view bumps it once
// for the base and every view.
TEST(Views, VersionCounterIsSharedByEveryView) {
  Tensor x = xg::zeros({3, 4});
  std::vector<Tensor> views = {x.t(),
                               x.t().narrow(0, 1, 2),
                               x.view({12}),
                               x.select(0, 1),
                               x.detach(),
                               x.expand({2, 3, 4}),
                               x.unbind(0)[2],
                               x.as_strided({2}, {1}, 0),
                               x.slice(1, 0, N, 2),
                               x.split(2, 1)[1],
                               x.unsqueeze(0)};
  const auto v0 = x._version();
  for (const Tensor& v : views) EXPECT_EQ(v._version(), v0);
  const auto expect_all = [&](decltype(v0) want, const char* after) {
    SCOPED_TRACE(after);
    EXPECT_EQ(x._version(), want);
    for (std::size_t i = 0; i < views.size(); ++i) EXPECT_EQ(views[i]._version(), want) << i;
  };
  views[1].add_(1);
  expect_all(v0 + 1, "add_ through a narrowed transpose");
  x.mul_(2);
  expect_all(v0 + 2, "mul_ on the base");
  views[3].fill_(0);
  expect_all(v0 + 3, "fill_ through a select");
  views[8].zero_();
  expect_all(v0 + 4, "zero_ through a step slice");
  views[2].copy_(xg::ones({12}));
  expect_all(v0 + 5, "copy_ through a view");
  views[4].sub_(1);
  expect_all(v0 + 6, "sub_ through detach()");
  // reading, making more views and copies bumps nothing; writing a copy bumps only the copy
  (void)x.t().sum();
  (void)x.narrow(0, 0, 1).reshape({4});
  Tensor copy = x.t().contiguous();
  const auto copy_version = copy._version();
  copy.add_(1);
  EXPECT_EQ(copy._version(), copy_version + 1);
  Tensor other = xg::zeros({3, 4});
  other.add_(1);
  expect_all(v0 + 6, "writes to other storages");
}

// The shared counter is what backward checks: writing through a view of a saved tensor makes
// backward throw (saved-tensor-modified).
TEST(Views, WriteThroughAViewInvalidatesASavedBase) {
  xg::manual_seed(3);
  Tensor w = xg::randn({3}, xg::kFloat64).requires_grad_();
  Tensor base = xg::ones({2, 3}, xg::kFloat64);
  Tensor y = (w * base).sum();  // mul saves base for w's gradient
  base.t().narrow(1, 0, 1).fill_(2);
  EXPECT_THROW(y.backward(), std::runtime_error);
  Tensor y2 = (w * base).sum();  // without the write backward works
  EXPECT_NO_THROW(y2.backward());
}

// A view of a leaf that requires grad cannot be changed in place with grad mode on (PyTorch:
// "a view of a leaf Variable that requires grad is being used in an in-place operation").
TEST(Views, InPlaceOnAViewOfALeafThatRequiresGrad) {
  Tensor x = xg::zeros({3, 4}).requires_grad_();
  const auto version = x._version();
  EXPECT_THROW(x.t().add_(1), std::runtime_error);
  EXPECT_THROW(x.select(0, 1).fill_(2), std::runtime_error);
  EXPECT_EQ(values(x), std::vector<double>(12, 0.0));
  EXPECT_EQ(x._version(), version);
  {
    xg::NoGradGuard no_grad;
    x.t().select(0, 1).fill_(2);  // as an optimizer's step would
  }
  EXPECT_EQ(values(x), (std::vector<double>{0, 2, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0}));
  EXPECT_EQ(x._version(), version + 1);
}

const std::vector<std::string> kViewError = {
    "view size is not compatible with input tensor's size and stride", "Use .reshape(...) instead"};

TEST(Views, ViewOfTransposedThrowsAndReshapeCopies) {
  const Tensor x = iota_tensor(12, {3, 4});
  const Tensor tt = x.transpose(0, 1);  // [4, 3], strides [1, 4]
  const auto version = x._version();
  expect_invalid_argument([&] { (void)tt.view({12}); }, kViewError);
  expect_invalid_argument([&] { (void)xg::view(tt, {-1}); }, kViewError);
  expect_invalid_argument([&] { (void)tt.view({2, 6}); }, kViewError);
  EXPECT_EQ(values(x), iota(12));
  EXPECT_EQ(x._version(), version);
  EXPECT_EQ(tt.stride(), (Shape{1, 4}));

  const std::vector<double> want = {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11};
  for (bool method : {true, false}) {
    Tensor r = method ? tt.reshape({12}) : xg::reshape(tt, {12});
    EXPECT_FALSE(r.is_alias_of(x));
    EXPECT_TRUE(r.is_contiguous());
    EXPECT_EQ(r.stride(), (Shape{1}));
    EXPECT_EQ(values(r), want);
    EXPECT_EQ(read_strided(r), want);
    r.fill_(0);
    EXPECT_EQ(values(x), iota(12));
  }
  EXPECT_EQ(values(tt.contiguous().view({12})), want);
  // a view that only splits dims works on the transposed tensor
  const Tensor split = tt.view({2, 2, 3});
  EXPECT_TRUE(split.is_alias_of(x));
  EXPECT_EQ(split.stride(), (Shape{2, 1, 4}));
}

TEST(Views, ContiguousOfAContiguousTensorIsItself) {
  Tensor x = iota_tensor(12, {3, 4});
  const auto version = x._version();
  const Tensor c = x.contiguous();
  EXPECT_TRUE(c.is_alias_of(x));
  EXPECT_EQ(c.data_ptr<float>(), x.data_ptr<float>());
  EXPECT_EQ(c.stride(), x.stride());
  EXPECT_EQ(c._version(), version);
  const Tensor n = x.narrow(0, 1, 2);  // contiguous with an offset
  ASSERT_TRUE(n.is_contiguous());
  EXPECT_EQ(n.contiguous().data_ptr<float>(), n.data_ptr<float>());
  EXPECT_EQ(n.contiguous().storage_offset(), 4);
  const Tensor u = x.unsqueeze(1);  // size-1 dims do not matter
  EXPECT_TRUE(u.is_contiguous());
  EXPECT_EQ(u.contiguous().data_ptr<float>(), x.data_ptr<float>());
  x.fill_(1);
  EXPECT_EQ(values(c), std::vector<double>(12, 1.0));
}

TEST(Views, ContiguousOfATransposedTensorIsACopy) {
  Tensor x = iota_tensor(12, {3, 4});
  const Tensor tt = x.t();
  EXPECT_FALSE(tt.is_contiguous());
  Tensor c = tt.contiguous();
  EXPECT_FALSE(c.is_alias_of(x));
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_EQ(c.sizes(), (Shape{4, 3}));
  EXPECT_EQ(c.stride(), (Shape{3, 1}));
  EXPECT_EQ(c.storage_offset(), 0);
  const std::vector<double> want = {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11};
  EXPECT_EQ(values(c), want);
  EXPECT_EQ(read_strided_as<float>(c), want);
  EXPECT_EQ(tt.stride(), (Shape{1, 4}));  // the view itself is unchanged
  c.fill_(0);
  EXPECT_EQ(values(x), iota(12));
  x.fill_(1);
  EXPECT_EQ(values(c), std::vector<double>(12, 0.0));
}

TEST(Views, DataPtrPointsAtTheViewsFirstElement) {
  const Tensor f = iota_tensor(12, {4, 3});
  const Tensor n = f.narrow(0, 1, 2);
  EXPECT_EQ(n.data_ptr<float>(), f.data_ptr<float>() + 3);
  EXPECT_EQ(n.storage_offset(), 3);
  EXPECT_EQ(*n.data_ptr<float>(), 3.0f);
  EXPECT_EQ(f.select(1, 2).data_ptr<float>(), f.data_ptr<float>() + 2);
  EXPECT_EQ(f.slice(0, 1, N, 2).data_ptr<float>(), f.data_ptr<float>() + 3);
  EXPECT_EQ(n.select(0, 1).select(0, 2).data_ptr<float>(), f.data_ptr<float>() + 8);
  EXPECT_EQ(n.select(0, 1).select(0, 2).item<float>(), 8.0f);
  EXPECT_EQ(f.t().narrow(0, 2, 1).data_ptr<float>(), f.data_ptr<float>() + 2);
  const Tensor d = iota_tensor(12, {4, 3}, xg::kFloat64);
  EXPECT_EQ(d.narrow(0, 1, 2).data_ptr<double>(), d.data_ptr<double>() + 3);
  const Tensor i = iota_tensor(12, {4, 3}, xg::kInt64);
  EXPECT_EQ(i.narrow(0, 1, 2).data_ptr<std::int64_t>(), i.data_ptr<std::int64_t>() + 3);
  EXPECT_EQ(i.narrow(0, 1, 2).select(1, 1).select(0, 0).item<std::int64_t>(), 4);
}

TEST(Views, AsStridedOutOfBoundsThrows) {
  Tensor x = xg::zeros({4, 3});
  const auto version = x._version();
  const std::vector<std::string> parts = {"as_strided"};
  expect_invalid_argument([&] { (void)x.as_strided({4, 4}, {3, 1}); }, parts);  // needs 13
  expect_invalid_argument([&] { (void)x.as_strided({1}, {1}, 12); }, parts);
  expect_invalid_argument([&] { (void)xg::as_strided(x, {2, 2}, {0, 6}, 6); }, parts);
  // the default offset is the view's (6): 6 + 2*3 + 2*1 + 1 = 15 > 12
  expect_invalid_argument([&] { (void)x.narrow(0, 2, 2).as_strided({3, 3}, {3, 1}); }, parts);
  expect_invalid_argument([&] { (void)x.as_strided({2}, {1}, -1); }, parts);
  expect_invalid_argument([&] { (void)x.as_strided({2}, {-1}, 1); }, parts);
  EXPECT_EQ(x._version(), version);
  // in bounds of the storage, even past the end of the view
  const Tensor whole = x.narrow(0, 0, 1).as_strided({4, 3}, {3, 1}, 0);
  EXPECT_TRUE(whole.is_alias_of(x));
  EXPECT_EQ(whole.data_ptr<float>(), x.data_ptr<float>());
  const Tensor last = x.as_strided({2, 3}, {3, 1}, 6);
  EXPECT_EQ(last.data_ptr<float>(), x.data_ptr<float>() + 6);
  EXPECT_TRUE(last.is_contiguous());
  EXPECT_EQ(x.as_strided({0, 5}, {100, 100}, 12).numel(), 0);  // an empty view needs nothing
}

TEST(Views, DetachAliasesAndSharesTheVersion) {
  xg::manual_seed(4);
  Tensor x = xg::randn({3, 4}, xg::kFloat64).requires_grad_();
  const std::vector<double> before = values(x);
  Tensor d = x.t().detach();
  EXPECT_TRUE(d.is_alias_of(x));
  EXPECT_FALSE(d.requires_grad());
  EXPECT_EQ(d.sizes(), (Shape{4, 3}));
  EXPECT_EQ(d.stride(), (Shape{1, 4}));
  EXPECT_EQ(d.data_ptr<double>(), x.data_ptr<double>());
  const auto version = x._version();
  EXPECT_EQ(d._version(), version);
  d.select(0, 0).add_(1);  // column 0 of x
  EXPECT_EQ(x._version(), version + 1);
  EXPECT_EQ(d._version(), version + 1);
  std::vector<double> want = before;
  for (int i = 0; i < 3; ++i) want[i * 4] += 1;
  EXPECT_EQ(values(x), want);
  const Tensor d2 = x.detach();
  EXPECT_TRUE(d2.is_alias_of(d));
  EXPECT_EQ(d2._version(), x._version());
}

TEST(Views, SplitChunkUnbindPieces) {
  const Tensor x = iota_tensor(10, {10});
  const auto sizes_and_offsets = [&](const std::vector<Tensor>& pieces) {
    std::vector<std::int64_t> out;
    for (const Tensor& p : pieces) {
      EXPECT_TRUE(p.is_alias_of(x));
      out.push_back(p.size(0));
      out.push_back(p.storage_offset());
    }
    return out;
  };
  using V = std::vector<std::int64_t>;
  EXPECT_EQ(sizes_and_offsets(x.split(3)), (V{3, 0, 3, 3, 3, 6, 1, 9}));
  EXPECT_EQ(sizes_and_offsets(x.split(10)), (V{10, 0}));
  EXPECT_EQ(sizes_and_offsets(x.split(20)), (V{10, 0}));
  EXPECT_EQ(sizes_and_offsets(x.chunk(4)), (V{3, 0, 3, 3, 3, 6, 1, 9}));  // ceil(10/4) = 3
  EXPECT_EQ(sizes_and_offsets(x.chunk(3)), (V{4, 0, 4, 4, 2, 8}));
  EXPECT_EQ(sizes_and_offsets(x.narrow(0, 0, 4).chunk(3)), (V{2, 0, 2, 2}));  // 2 chunks, not 3
  EXPECT_EQ(sizes_and_offsets(x.chunk(10)).size(), 20u);
  EXPECT_EQ(sizes_and_offsets(x.split_with_sizes({2, 0, 8})), (V{2, 0, 0, 2, 8, 2}));
  expect_invalid_argument([&] { (void)x.split_with_sizes({2, 3}); }, {"split_with_sizes"});
  const Tensor m = iota_tensor(12, {3, 4});
  const std::vector<Tensor> cols = xg::unbind(m, 1);
  ASSERT_EQ(cols.size(), 4u);
  for (std::int64_t j = 0; j < 4; ++j) {
    EXPECT_EQ(cols[j].sizes(), (Shape{3}));
    EXPECT_EQ(cols[j].stride(), (Shape{4}));
    EXPECT_EQ(cols[j].storage_offset(), j);
    EXPECT_EQ(values(cols[j]), (std::vector<double>{double(j), double(j + 4), double(j + 8)}));
  }
  const std::vector<Tensor> halves = m.t().chunk(2, 1);  // [4, 2] and [4, 1]
  ASSERT_EQ(halves.size(), 2u);
  EXPECT_EQ(halves[1].sizes(), (Shape{4, 1}));
  EXPECT_EQ(values(halves[1]), (std::vector<double>{8, 9, 10, 11}));
}

TEST(Views, SliceAndSelectArguments) {
  const Tensor x = iota_tensor(12, {3, 4});
  // LibTorch semantics: start and end clamp into [0, size], end < start gives an empty slice
  EXPECT_EQ(values(x.slice(1, -100, 100)), iota(12));
  EXPECT_EQ(x.slice(1, 3, 1).sizes(), (Shape{3, 0}));
  EXPECT_EQ(values(xg::slice(x, 1, N, N, 3)), (std::vector<double>{0, 3, 4, 7, 8, 11}));
  EXPECT_EQ(values(x.slice(-1, -2, N)), (std::vector<double>{2, 3, 6, 7, 10, 11}));
  EXPECT_THROW((void)x.slice(1, 0, 4, 0), std::invalid_argument);  // step must be > 0
  EXPECT_THROW((void)x.slice(1, 0, 4, -1), std::invalid_argument);
  EXPECT_THROW((void)x.slice(2, 0, 4), std::out_of_range);  // dim
  EXPECT_THROW((void)x.select(1, 4), std::out_of_range);    // index
  EXPECT_THROW((void)x.select(0, -4), std::out_of_range);
  EXPECT_EQ(values(x.select(0, -3)), (std::vector<double>{0, 1, 2, 3}));
  EXPECT_THROW((void)x.narrow(1, 2, 3), std::out_of_range);  // narrow-range
}

// Backward through views puts each gradient where its element lives.
TEST(Views, BackwardThroughViewsScattersGradients) {
  Tensor x = xg::zeros({3, 4}, xg::kFloat64).requires_grad_();
  x.t().narrow(0, 1, 2).sum().backward();  // columns 1 and 2
  EXPECT_EQ(x.grad().sizes(), (Shape{3, 4}));
  EXPECT_EQ(values(x.grad()), (std::vector<double>{0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1, 0}));
  Tensor c = xg::zeros({3, 1}, xg::kFloat64).requires_grad_();
  c.expand({2, 3, 4}).sum().backward();
  EXPECT_EQ(values(c.grad()), (std::vector<double>{8, 8, 8}));
  Tensor s = xg::zeros({6}, xg::kFloat64).requires_grad_();
  s.as_strided({3, 2}, {1, 1}).sum().backward();  // overlapping windows 01 12 23
  EXPECT_EQ(values(s.grad()), (std::vector<double>{1, 2, 2, 1, 0, 0}));
  Tensor u = xg::zeros({2, 3}, xg::kFloat64).requires_grad_();
  const std::vector<Tensor> rows = u.unbind(0);
  (rows[0] * 2 + rows[1].slice(0, 0, N, 2).sum() * 3).sum().backward();
  EXPECT_EQ(values(u.grad()), (std::vector<double>{2, 2, 2, 9, 0, 9}));
}

// ---- 3. gradcheck through views ---------------------------------------------------------------

using V = const std::vector<Tensor>&;
using Fn = std::function<Tensor(V)>;

struct GradRow {
  std::string name;
  std::vector<Shape> shapes;
  Fn fn;
};

// sum_i (i + 1) * sum(piece_i^2): each element's gradient depends on which piece holds it
Tensor weighted(const std::vector<Tensor>& pieces) {
  Tensor out = pieces.at(0).square().sum();
  for (std::size_t i = 1; i < pieces.size(); ++i) {
    out = out + pieces[i].square().sum() * static_cast<double>(i + 1);
  }
  return out;
}

Tensor f64_arange(std::int64_t n, const Shape& shape) {
  return iota_tensor(n, shape, xg::kFloat64);
}

const std::vector<GradRow>& grad_rows() {
  static const std::vector<GradRow> rows = [] {
    std::vector<GradRow> r;
    const auto add = [&](std::string name, std::vector<Shape> shapes, Fn fn) {
      r.push_back({std::move(name), std::move(shapes), std::move(fn)});
    };
    const Shape s234 = {2, 3, 4};
    // each view op, its result returned as it is (a non-contiguous alias of the input)
    add("transpose", {s234}, [](V x) { return x[0].transpose(0, 2); });
    add("transpose_free_neg", {s234}, [](V x) { return xg::transpose(x[0], -1, -2); });
    add("permute", {s234}, [](V x) { return x[0].permute({2, 0, 1}); });
    add("permute_free", {s234}, [](V x) { return xg::permute(x[0], {1, 2, 0}); });
    add("narrow", {s234}, [](V x) { return x[0].narrow(1, 1, 2); });
    add("narrow_free_neg_start", {s234}, [](V x) { return xg::narrow(x[0], 2, -3, 2); });
    add("select", {s234}, [](V x) { return x[0].select(1, -1); });
    add("select_free", {s234}, [](V x) { return xg::select(x[0], 2, 1); });
    add("slice_step2", {s234}, [](V x) { return x[0].slice(2, 1, N, 2); });
    add("slice_free_clamped", {s234}, [](V x) { return xg::slice(x[0], 1, -10, 2, 1); });
    add("expand", {{3, 1}}, [](V x) { return x[0].expand({2, 3, 4}); });
    add("expand_free", {{3, 1}}, [](V x) { return xg::expand(x[0], {-1, 4}); });
    add("expand_as", {{3}}, [](V x) { return x[0].expand_as(xg::zeros({2, 3}, xg::kFloat64)); });
    add("squeeze", {{1, 3, 1, 2}}, [](V x) { return x[0].squeeze(); });
    add("squeeze_dim_free", {{1, 3, 1, 2}}, [](V x) { return xg::squeeze(x[0], 2); });
    add("unsqueeze", {{3, 4}}, [](V x) { return x[0].unsqueeze(1); });
    add("unsqueeze_of_transpose", {{3, 4}}, [](V x) { return xg::unsqueeze(x[0].t(), 0); });
    add("split", {{3, 5}}, [](V x) { return weighted(x[0].split(2, 1)); });
    add("split_cat", {{3, 5}}, [](V x) {
      const std::vector<Tensor> p = xg::split(x[0], 2, 1);
      return xg::cat({p[2] * 3, p[0], p[1] * -2}, 1);
    });
    add("split_with_sizes", {{3, 5}}, [](V x) {
      return weighted(x[0].split_with_sizes({1, 3, 1}, 1));
    });
    add("chunk", {{3, 5}}, [](V x) { return weighted(x[0].chunk(2, 0)); });
    add("unbind", {{3, 5}}, [](V x) { return weighted(x[0].unbind(1)); });
    add("unbind_stack", {{3, 5}}, [](V x) { return xg::stack(xg::unbind(x[0], 1), 0); });
    add("as_strided", {{4, 3}}, [](V x) { return x[0].as_strided({2, 3}, {6, 1}, 3); });
    add("as_strided_transposed", {{4, 3}}, [](V x) { return x[0].as_strided({3, 2}, {1, 3}, 0); });
    add("as_strided_of_view", {{4, 3}}, [](V x) {
      return xg::as_strided(x[0].narrow(0, 1, 2), {2, 2}, {1, 3});  // offset 3: 3, 4, 6, 7
    });
    add("view_of_transpose", {s234}, [](V x) { return x[0].transpose(0, 2).view({2, 2, 3, 2}); });
    add("view_of_select_free", {s234}, [](V x) { return xg::view(x[0].select(2, 0), {6}); });
    add("reshape_copy", {s234}, [](V x) { return x[0].transpose(0, 1).reshape({6, 4}); });
    add("reshape_view", {s234}, [](V x) { return x[0].narrow(0, 1, 1).reshape({12}); });
    add("flatten_copy", {s234}, [](V x) { return x[0].transpose(1, 2).flatten(); });
    add("flatten_view_free", {s234}, [](V x) { return xg::flatten(x[0].narrow(2, 0, 2), 0, 1); });
    add("t", {{3, 4}}, [](V x) { return x[0].t(); });
    add("t_free", {{3, 4}}, [](V x) { return xg::t(x[0]); });
    add("mT", {s234}, [](V x) { return x[0].mT(); });
    add("contiguous_of_transpose", {{3, 4}}, [](V x) {
      return x[0].t().contiguous() * f64_arange(12, {4, 3});
    });
    // chains of views followed by non-linear ops
    add("chain_sin", {{3, 4}, {2, 3}},
        [](V x) { return (x[0].transpose(0, 1).narrow(0, 1, 2) * x[1]).sin().sum(); });
    add("chain_long", {s234}, [](V x) {
      const Tensor v = x[0].permute({2, 0, 1}).slice(0, 0, N, 2).select(2, 1).unsqueeze(0);
      return (v.expand({3, 2, 2}) * f64_arange(12, {3, 2, 2})).tanh();
    });
    // ops on non-contiguous operands
    add("matmul_transposed", {{3, 2}, {3, 4}},
        [](V x) { return x[0].transpose(0, 1).matmul(x[1]); });
    add("matmul_batched_mT", {{2, 4, 3}, {2, 4, 5}}, [](V x) { return x[0].mT().matmul(x[1]); });
    add("matmul_both_views", {{4, 3}, {5, 4}}, [](V x) { return xg::matmul(x[0].t(), x[1].t()); });
    add("matmul_vector_step", {{3, 4}, {8}},
        [](V x) { return x[0].matmul(x[1].slice(0, 0, N, 2)); });
    add("mm_t", {{3, 2}, {3, 4}}, [](V x) { return xg::mm(x[0].t(), x[1]); });
    add("mm_step_slice", {{2, 6}, {3, 4}}, [](V x) { return x[0].slice(1, 0, N, 2).mm(x[1]); });
    add("softmax_permuted", {s234}, [](V x) { return x[0].permute({2, 0, 1}).softmax(1); });
    add("log_softmax_permuted", {s234}, [](V x) {
      return xg::log_softmax(x[0].permute({1, 2, 0}), -1);
    });
    add("softmax_expanded", {{3, 1}}, [](V x) { return x[0].expand({3, 4}).softmax(0); });
    add("sum_permuted", {s234}, [](V x) { return x[0].permute({1, 2, 0}).sum({0, 2}); });
    add("sum_permuted_keepdim", {s234}, [](V x) { return x[0].permute({2, 0, 1}).sum({1}, true); });
    add("mean_transposed", {s234}, [](V x) { return x[0].transpose(0, 2).mean({1}); });
    add("amax_step_slice", {s234}, [](V x) { return x[0].slice(2, 0, N, 3).amax({2}); });
    add("logsumexp_mT", {s234}, [](V x) { return x[0].mT().logsumexp({1}); });
    add("mul_view_broadcast", {{3, 4}, {3}}, [](V x) { return x[0].t() * x[1]; });
    add("add_step_slice_broadcast", {{3, 8}, {3, 1}},
        [](V x) { return x[0].slice(1, 0, N, 2) + x[1]; });
    add("div_expanded", {{3, 1}, {3, 4}}, [](V x) {
      return x[0].expand({3, 4}) / (x[1] * x[1] + 1);
    });
    add("mul_two_views", {{4, 3}, {3, 8}}, [](V x) { return x[0].t() * x[1].slice(1, 1, N, 2); });
    add("cat_views", {{3, 4}, {2, 4}}, [](V x) { return xg::cat({x[0].t(), x[1].t()}, 1); });
    add("index_select_view", {{3, 4}}, [](V x) {
      return xg::index_select(x[0].t(), 0, xg::tensor({3, 0, 3}, xg::kInt64));
    });
    return r;
  }();
  return rows;
}

class ViewGradcheck : public ::testing::TestWithParam<std::size_t> {};

TEST_P(ViewGradcheck, Row) {
  const GradRow& row = grad_rows().at(GetParam());
  xg::manual_seed(2000 + GetParam());
  std::vector<Tensor> inputs;
  for (const Shape& s : row.shapes) inputs.push_back(xg::randn(s, xg::kFloat64).requires_grad_());
  const xg::autograd::GradcheckReport report = xg::autograd::gradcheck(row.fn, inputs);
  EXPECT_TRUE(report.ok) << row.name << ": " << report.message;
}

INSTANTIATE_TEST_SUITE_P(Views, ViewGradcheck, ::testing::Range<std::size_t>(0, grad_rows().size()),
                         [](const ::testing::TestParamInfo<std::size_t>& info) {
                           return grad_rows().at(info.param).name;
                         });

// ---- 4. kernels on strided operands -----------------------------------------------------------

// A way to make a view of a given shape: a fresh base of base_shape, and the view ops on it.
struct Layout {
  const char* name;
  Shape base_shape;
  std::function<Tensor(const Tensor&)> view;
  bool writable;  // no two elements share memory
};

struct Made {
  Tensor base;
  Tensor view;
};

// Random values of the dtype (small integers for Int64), the same for the same seed.
Tensor draw(const Shape& shape, xg::Dtype dtype, std::uint64_t seed) {
  xg::manual_seed(seed);
  return dtype == xg::kInt64 ? xg::randint(-5, 6, shape, xg::kInt64) : xg::randn(shape, dtype);
}

Made make(const Layout& l, xg::Dtype dtype, std::uint64_t seed) {
  Tensor base = draw(l.base_shape, dtype, seed);
  return {base, l.view(base)};
}

// Views of shape [3, 4].
const std::vector<Layout>& layouts_2d() {
  static const std::vector<Layout> l = {
      {"contiguous", {3, 4}, [](const Tensor& b) { return b; }, true},
      {"transposed", {4, 3}, [](const Tensor& b) { return b.t(); }, true},
      {"step_slice_cols", {3, 8}, [](const Tensor& b) { return b.slice(1, 1, N, 2); }, true},
      {"step_slice_rows", {7, 4}, [](const Tensor& b) { return b.slice(0, 0, N, 3); }, true},
      {"narrowed", {5, 6}, [](const Tensor& b) { return b.narrow(0, 1, 3).narrow(1, 2, 4); }, true},
      {"selected", {3, 2, 4}, [](const Tensor& b) { return b.select(1, 1); }, true},
      {"permuted_selected",
       {4, 2, 3},
       [](const Tensor& b) {
         return b.permute({2, 1, 0}).select(1, 0);
       },
       true},
      {"transposed_step", {8, 3}, [](const Tensor& b) { return b.slice(0, 0, N, 2).t(); }, true},
      {"expanded_row",
       {1, 4},
       [](const Tensor& b) {
         return b.expand({3, 4});
       },
       false},
      {"expanded_col",
       {3},
       [](const Tensor& b) {
         return b.unsqueeze(1).expand({3, 4});
       },
       false},
      {"expanded_0d",
       {},
       [](const Tensor& b) {
         return b.expand({3, 4});
       },
       false},
      {"overlapping",
       {8},
       [](const Tensor& b) {
         return b.as_strided({3, 4}, {1, 1});
       },
       false},
      {"overlapping_offset",
       {10},
       [](const Tensor& b) {
         return b.as_strided({3, 4}, {2, 1}, 1);
       },
       false},
  };
  return l;
}

// Views of shape [2, 3, 4].
const std::vector<Layout>& layouts_3d() {
  static const std::vector<Layout> l = {
      {"contiguous", {2, 3, 4}, [](const Tensor& b) { return b; }, true},
      {"permuted",
       {4, 2, 3},
       [](const Tensor& b) {
         return b.permute({1, 2, 0});
       },
       true},
      {"reversed_dims",
       {4, 3, 2},
       [](const Tensor& b) {
         return b.permute({2, 1, 0});
       },
       true},
      {"transposed01", {3, 2, 4}, [](const Tensor& b) { return b.transpose(0, 1); }, true},
      {"mT", {2, 4, 3}, [](const Tensor& b) { return b.mT(); }, true},
      {"step_slice", {2, 3, 8}, [](const Tensor& b) { return b.slice(2, 0, N, 2); }, true},
      {"selected", {2, 2, 3, 4}, [](const Tensor& b) { return b.select(1, 1); }, true},
      {"expanded",
       {1, 3, 1},
       [](const Tensor& b) {
         return b.expand({2, 3, 4});
       },
       false},
  };
  return l;
}

enum class Tol { kExact, kUlps, kSum };

// kExact: correctly rounded (or pure data movement), so the same on any path. kUlps: math
// functions, whose vectorized (xsimd) and scalar versions may differ in the last bits.
// kSum: reductions and products, whose summation order may differ.
double tolerance(Tol t, xg::Dtype d) {
  const double eps = d == xg::kFloat32 ? FLT_EPSILON : DBL_EPSILON;
  switch (t) {
    case Tol::kExact:
      return 0;
    case Tol::kUlps:
      return d == xg::kInt64 ? 0 : 4 * eps;
    case Tol::kSum:
      return d == xg::kInt64 ? 0 : (d == xg::kFloat32 ? 1e-5 : 1e-13);
  }
  return 0;
}

struct UnaryOp {
  const char* name;
  std::function<Tensor(const Tensor&)> fn;
  Tol tol;
  bool int_ok;
  // Moves a base tensor's values into the op's domain; applied before the view is taken, so the
  // op itself runs on the strided view.
  std::function<Tensor(const Tensor&)> domain = [](const Tensor& x) { return x; };
};

// Every registry op (unary_cases.hpp, with its domain), then composites.
const std::vector<UnaryOp>& unary_ops() {
  static const std::vector<UnaryOp> ops = [] {
    std::vector<UnaryOp> out;
    for (const auto& u : xg_test::unary_cases()) {
      out.push_back({u.name, u.fn, u.keeps_int() ? Tol::kExact : Tol::kUlps, u.keeps_int(),
                     [u](const Tensor& x) { return u.in_domain(x); }});
    }
    out.insert(
        out.end(),
        {
            {"clamp", [](const Tensor& x) { return x.clamp(-0.5, 0.5); }, Tol::kExact, false},
            {"clamp_min", [](const Tensor& x) { return x.clamp_min(0.25); }, Tol::kExact, false},
            {"mul_scalar", [](const Tensor& x) { return x * 2.5; }, Tol::kExact, false},
            {"add_int", [](const Tensor& x) { return x + 3; }, Tol::kExact, true},
            {"rsub_scalar", [](const Tensor& x) { return 1.5 - x; }, Tol::kExact, false},
            {"div_scalar", [](const Tensor& x) { return x / 4; }, Tol::kExact, false},
            {"pow_2", [](const Tensor& x) { return x.pow(2); }, Tol::kUlps, true},
            {"eq_scalar", [](const Tensor& x) { return x.eq(0.0); }, Tol::kExact, true},
            {"gt_scalar", [](const Tensor& x) { return x.gt(0.25); }, Tol::kExact, true},
            {"to_f64", [](const Tensor& x) { return x.to(xg::kFloat64); }, Tol::kExact, true},
            {"clone", [](const Tensor& x) { return x.clone(); }, Tol::kExact, true},
            {"reshape", [](const Tensor& x) { return x.reshape({-1}); }, Tol::kExact, true},
            {"pow_1p5_abs", [](const Tensor& x) { return x.abs().pow(1.5); }, Tol::kUlps, false},
        });
    return out;
  }();
  return ops;
}

struct BinaryOp {
  const char* name;
  std::function<Tensor(const Tensor&, const Tensor&)> fn;
  Tol tol;
  bool int_ok;
};

const std::vector<BinaryOp>& binary_ops() {
  static const std::vector<BinaryOp> ops = {
      {"add", [](const Tensor& a, const Tensor& b) { return a + b; }, Tol::kExact, true},
      {"add_alpha", [](const Tensor& a, const Tensor& b) { return a.add(b, 2.5); }, Tol::kExact,
       false},
      {"sub", [](const Tensor& a, const Tensor& b) { return a - b; }, Tol::kExact, true},
      {"mul", [](const Tensor& a, const Tensor& b) { return a * b; }, Tol::kExact, true},
      {"div", [](const Tensor& a, const Tensor& b) { return a / b; }, Tol::kExact, false},
      {"maximum", [](const Tensor& a, const Tensor& b) { return xg::maximum(a, b); }, Tol::kExact,
       true},
      {"minimum", [](const Tensor& a, const Tensor& b) { return a.minimum(b); }, Tol::kExact, true},
      {"lt", [](const Tensor& a, const Tensor& b) { return a.lt(b); }, Tol::kExact, true},
      {"ge", [](const Tensor& a, const Tensor& b) { return a.ge(b); }, Tol::kExact, true},
      {"where", [](const Tensor& a, const Tensor& b) { return xg::where(a.gt(b), a, b * 2); },
       Tol::kExact, true},
      {"pow", [](const Tensor& a, const Tensor& b) { return xg::pow(a.abs() + 0.5, b); },
       Tol::kUlps, false},
  };
  return ops;
}

std::string trace(const char* layout, xg::Dtype d, const char* op) {
  return std::string(layout) + " " + std::string(xg::dtype_name(d)) + " " + op;
}

const xg::Dtype kFloats[] = {xg::kFloat32, xg::kFloat64};

// The harness itself: each layout has the shape, aliasing and contiguity it claims, and reading
// it through its strides, through to_xarray and through contiguous() agree.
TEST(StridedKernels, LayoutsAreWhatTheyClaim) {
  for (const auto* layouts : {&layouts_2d(), &layouts_3d()}) {
    for (const Layout& l : *layouts) {
      SCOPED_TRACE(l.name);
      const Made m = make(l, xg::kFloat32, 1);
      EXPECT_EQ(m.view.sizes(), layouts == &layouts_2d() ? (Shape{3, 4}) : (Shape{2, 3, 4}));
      EXPECT_TRUE(m.view.is_alias_of(m.base));
      EXPECT_EQ(m.view.is_contiguous(), std::string(l.name) == "contiguous");
      const std::vector<double> raw = read_strided(m.view);
      EXPECT_EQ(values(m.view), raw);
      EXPECT_EQ(values(m.view.contiguous()), raw);
      EXPECT_EQ(read_strided(m.view.contiguous()), raw);
    }
  }
}

TEST(StridedKernels, Unary) {
  for (const auto* layouts : {&layouts_2d(), &layouts_3d()}) {
    for (const Layout& l : *layouts) {
      for (xg::Dtype d : {xg::kFloat32, xg::kFloat64, xg::kInt64}) {
        const Made m = make(l, d, 11);
        for (const UnaryOp& op : unary_ops()) {
          if (d == xg::kInt64 && !op.int_ok) continue;
          const Tensor view = l.view(op.domain(m.base));
          const Tensor c = view.contiguous();
          const std::vector<double> before = values(view);
          expect_close(op.fn(view), op.fn(c), tolerance(op.tol, d), trace(l.name, d, op.name));
          EXPECT_EQ(values(view), before) << l.name << " " << op.name;
        }
      }
    }
  }
}

TEST(StridedKernels, Binary) {
  const auto& ls = layouts_2d();
  for (xg::Dtype d : {xg::kFloat32, xg::kFloat64, xg::kInt64}) {
    for (std::size_t i = 0; i < ls.size(); ++i) {
      const Made a = make(ls[i], d, 21);
      const Tensor ac = a.view.contiguous();
      // the other operand: every layout, and broadcast shapes (a row, a column, a 0-d tensor,
      // a step-sliced row)
      std::vector<std::pair<std::string, Tensor>> others;
      for (std::size_t j = 0; j < ls.size(); ++j)
        others.emplace_back(ls[j].name, make(ls[j], d, 22).view);
      others.emplace_back("row", make(ls[0], d, 23).view.select(0, 1));
      others.emplace_back("column", make(ls[1], d, 24).view.narrow(1, 0, 1));
      others.emplace_back("0d", make(ls[0], d, 25).view.select(0, 2).select(0, 3));
      others.emplace_back("step_row", draw({9}, d, 26).slice(0, 1, N, 2));
      for (const auto& [other_name, b] : others) {
        const Tensor bc = b.contiguous();
        for (const BinaryOp& op : binary_ops()) {
          if (d == xg::kInt64 && !op.int_ok) continue;
          const std::string what = trace(ls[i].name, d, op.name) + " with " + other_name;
          expect_close(op.fn(a.view, b), op.fn(ac, bc), tolerance(op.tol, d), what);
          expect_close(op.fn(b, a.view), op.fn(bc, ac), tolerance(op.tol, d), what + " (swapped)");
        }
      }
    }
  }
  // 3-D views with broadcast operands of fewer dims
  for (const Layout& l : layouts_3d()) {
    for (xg::Dtype d : kFloats) {
      const Made a = make(l, d, 27);
      const Tensor col = make(layouts_2d()[1], d, 28).view.narrow(1, 0, 1);  // [3, 1] strided
      const Tensor row = make(layouts_2d()[2], d, 29).view.select(0, 0);     // [4] strided
      for (const BinaryOp& op : binary_ops()) {
        const std::string what = trace(l.name, d, op.name);
        expect_close(op.fn(a.view, col), op.fn(a.view.contiguous(), col.contiguous()),
                     tolerance(op.tol, d), what + " with [3, 1]");
        expect_close(op.fn(row, a.view), op.fn(row.contiguous(), a.view.contiguous()),
                     tolerance(op.tol, d), what + " with [4]");
      }
    }
  }
}

TEST(StridedKernels, Reductions) {
  using R = std::function<Tensor(const Tensor&)>;
  const std::vector<std::tuple<const char*, R, Tol, bool>> ops2 = {
      {"sum", [](const Tensor& x) { return x.sum(); }, Tol::kSum, true},
      {"sum_0", [](const Tensor& x) { return x.sum({0}); }, Tol::kSum, true},
      {"sum_1_keep", [](const Tensor& x) { return x.sum({1}, true); }, Tol::kSum, true},
      {"sum_m1_0",
       [](const Tensor& x) {
         return xg::sum(x, {-1, 0});
       },
       Tol::kSum, true},
      {"mean", [](const Tensor& x) { return x.mean(); }, Tol::kSum, false},
      {"mean_0_keep", [](const Tensor& x) { return x.mean({0}, true); }, Tol::kSum, false},
      {"logsumexp_1", [](const Tensor& x) { return x.logsumexp({1}); }, Tol::kSum, false},
      {"amax_0", [](const Tensor& x) { return x.amax({0}); }, Tol::kExact, true},
      {"amin_1_keep", [](const Tensor& x) { return x.amin({1}, true); }, Tol::kExact, true},
      {"max", [](const Tensor& x) { return x.max(); }, Tol::kExact, true},
      {"min", [](const Tensor& x) { return x.min(); }, Tol::kExact, true},
      {"argmax_1", [](const Tensor& x) { return x.argmax(1); }, Tol::kExact, true},
      {"argmax", [](const Tensor& x) { return x.argmax(); }, Tol::kExact, true},
      {"argmin_0_keep", [](const Tensor& x) { return x.argmin(0, true); }, Tol::kExact, true},
  };
  const std::vector<std::tuple<const char*, R, Tol, bool>> ops3 = {
      {"sum", [](const Tensor& x) { return x.sum(); }, Tol::kSum, true},
      {"sum_0", [](const Tensor& x) { return x.sum({0}); }, Tol::kSum, true},
      {"sum_1", [](const Tensor& x) { return x.sum({1}); }, Tol::kSum, true},
      {"sum_2_keep", [](const Tensor& x) { return x.sum({2}, true); }, Tol::kSum, true},
      {"sum_0_2",
       [](const Tensor& x) {
         return x.sum({0, 2});
       },
       Tol::kSum, true},
      {"mean_1_2",
       [](const Tensor& x) {
         return x.mean({1, 2});
       },
       Tol::kSum, false},
      {"logsumexp_0_2",
       [](const Tensor& x) {
         return x.logsumexp({0, 2});
       },
       Tol::kSum, false},
      {"amax_1", [](const Tensor& x) { return x.amax({1}); }, Tol::kExact, true},
      {"amin_0_2_keep",
       [](const Tensor& x) {
         return x.amin({0, 2}, true);
       },
       Tol::kExact, true},
      {"argmax_2", [](const Tensor& x) { return x.argmax(2); }, Tol::kExact, true},
      {"argmin_0", [](const Tensor& x) { return x.argmin(0); }, Tol::kExact, true},
  };
  for (const auto* layouts : {&layouts_2d(), &layouts_3d()}) {
    const auto& ops = layouts == &layouts_2d() ? ops2 : ops3;
    for (const Layout& l : *layouts) {
      for (xg::Dtype d : {xg::kFloat32, xg::kFloat64, xg::kInt64}) {
        const Made m = make(l, d, 31);
        const Tensor c = m.view.contiguous();
        for (const auto& [name, fn, tol, int_ok] : ops) {
          if (d == xg::kInt64 && !int_ok) continue;
          expect_close(fn(m.view), fn(c), tolerance(tol, d), trace(l.name, d, name));
        }
      }
    }
  }
}

TEST(StridedKernels, MatmulAndMm) {
  for (xg::Dtype d : {xg::kFloat32, xg::kFloat64, xg::kInt64}) {
    const double tol = tolerance(Tol::kSum, d);
    const auto ints = [&](const Shape& s, std::uint64_t seed) {
      return draw(s, xg::kInt64, seed).to(d);
    };
    const Tensor w34 = ints({3, 4}, 40);
    for (const Layout& l : layouts_2d()) {
      const Tensor a = make(l, d, 41).view;  // [3, 4]
      const Tensor b = make(l, d, 42).view;  // [3, 4], the same layout
      const Tensor ac = a.contiguous(), bc = b.contiguous();
      const Tensor right = ints({4, 5}, 46), left = ints({2, 3}, 47), vec4 = ints({4}, 48);
      const auto what = [&](const char* op) { return trace(l.name, d, op); };
      expect_close(a.matmul(right), ac.matmul(right), tol, what("view @ [4, 5]"));
      expect_close(left.matmul(a), left.matmul(ac), tol, what("[2, 3] @ view"));
      expect_close(a.matmul(b.t()), ac.matmul(bc.t().contiguous()), tol, what("view @ view.t()"));
      expect_close(xg::mm(a.t(), b), xg::mm(ac.t().contiguous(), bc), tol,
                   what("mm(view.t(), view)"));
      expect_close(a.mm(w34.t()), ac.mm(w34.t().contiguous()), tol, what("mm(view, w.t())"));
      expect_close(a.matmul(vec4), ac.matmul(vec4), tol, what("view @ vector"));
      expect_close(a.select(1, 2).matmul(left.t()),
                   ac.select(1, 2).contiguous().matmul(left.t().contiguous()), tol,
                   what("strided vector @ matrix"));
    }
    for (const Layout& l : layouts_3d()) {
      const Tensor a = make(l, d, 43).view;  // [2, 3, 4]
      const Tensor b = make(l, d, 44).view;
      const Tensor ac = a.contiguous(), bc = b.contiguous();
      const Tensor right = ints({4, 5}, 49);
      const auto what = [&](const char* op) { return trace(l.name, d, op); };
      expect_close(a.matmul(right), ac.matmul(right), tol, what("batched view @ [4, 5]"));
      expect_close(a.matmul(b.mT()), ac.matmul(bc.mT().contiguous()), tol,
                   what("view @ view.mT()"));
      expect_close(a.mT().matmul(b), ac.mT().contiguous().matmul(bc), tol,
                   what("view.mT() @ view"));
      const Tensor t2 = make(layouts_2d()[1], d, 45).view;  // [3, 4] transposed
      expect_close(a.matmul(t2.t()), ac.matmul(t2.t().contiguous()), tol, what("broadcast batch"));
    }
  }
}

TEST(StridedKernels, SoftmaxFamily) {
  for (xg::Dtype d : kFloats) {
    const double tol = tolerance(Tol::kSum, d);
    for (const auto* layouts : {&layouts_2d(), &layouts_3d()}) {
      for (const Layout& l : *layouts) {
        const Made m = make(l, d, 51);
        const Tensor c = m.view.contiguous();
        for (std::int64_t dim = -1; dim < m.view.dim(); ++dim) {
          const std::string what = trace(l.name, d, "") + "dim " + std::to_string(dim);
          expect_close(m.view.softmax(dim), c.softmax(dim), tol, "softmax " + what);
          expect_close(xg::log_softmax(m.view, dim), xg::log_softmax(c, dim), tol,
                       "log_softmax " + what);
        }
      }
    }
  }
}

TEST(StridedKernels, CatStackIndexSelect) {
  for (xg::Dtype d : {xg::kFloat32, xg::kFloat64, xg::kInt64}) {
    const Tensor idx0 = xg::tensor({2, 0, 2, 1}, xg::kInt64);
    const Tensor idx1 = xg::tensor({3, 1}, xg::kInt64);
    const auto& ls = layouts_2d();
    for (std::size_t i = 0; i < ls.size(); ++i) {
      const Tensor a = make(ls[i], d, 61).view;
      const Tensor b = make(ls[(i + 1) % ls.size()], d, 62).view;  // another layout
      const Tensor ac = a.contiguous(), bc = b.contiguous();
      const auto what = [&](const char* op) { return trace(ls[i].name, d, op); };
      expect_close(xg::cat({a, b}, 0), xg::cat({ac, bc}, 0), 0, what("cat 0"));
      expect_close(xg::cat({a, b.narrow(1, 1, 2), a}, 1), xg::cat({ac, bc.narrow(1, 1, 2), ac}, 1),
                   0, what("cat 1"));
      expect_close(xg::stack({a, b}, 2), xg::stack({ac, bc}, 2), 0, what("stack 2"));
      expect_close(a.index_select(0, idx0), ac.index_select(0, idx0), 0, what("index_select 0"));
      expect_close(xg::index_select(a, 1, idx1), xg::index_select(ac, 1, idx1), 0,
                   what("index_select 1"));
      // a strided index
      const Tensor sidx = xg::tensor({0, 9, 3, 9, 1, 9}, xg::kInt64).slice(0, 0, N, 2);
      expect_close(a.index_select(1, sidx), ac.index_select(1, sidx.contiguous()), 0,
                   what("strided index"));
    }
    for (const Layout& l : layouts_3d()) {
      const Tensor a = make(l, d, 63).view;
      const Tensor ac = a.contiguous();
      const auto what = [&](const char* op) { return trace(l.name, d, op); };
      expect_close(xg::cat({a, a.narrow(2, 1, 2)}, 2), xg::cat({ac, ac.narrow(2, 1, 2)}, 2), 0,
                   what("cat 2"));
      expect_close(xg::cat({a, a}, 1), xg::cat({ac, ac}, 1), 0, what("cat 1"));
      expect_close(a.index_select(2, idx0), ac.index_select(2, idx0), 0, what("index_select 2"));
      expect_close(a.index_select(1, idx0.narrow(0, 0, 3)),
                   ac.index_select(1, idx0.narrow(0, 0, 3)), 0, what("index_select 1"));
    }
  }
}

// In-place ops into strided destinations write exactly the view's elements, with the values
// the out-of-place op gives on contiguous copies, and bump the base's version once.
TEST(StridedKernels, InPlaceIntoStridedDestinations) {
  struct InPlace {
    const char* name;
    std::function<void(Tensor&, const Tensor&)> apply;  // (destination, other)
    std::function<Tensor(const Tensor&, const Tensor&)> expected;
    bool int_ok;
  };
  const std::vector<InPlace> ops = {
      {"add_", [](Tensor& x, const Tensor& o) { x.add_(o); },
       [](const Tensor& x, const Tensor& o) { return x + o; }, true},
      {"add_alpha", [](Tensor& x, const Tensor& o) { x.add_(o, 2); },
       [](const Tensor& x, const Tensor& o) { return x.add(o, 2); }, true},
      {"sub_", [](Tensor& x, const Tensor& o) { x.sub_(o); },
       [](const Tensor& x, const Tensor& o) { return x - o; }, true},
      {"mul_", [](Tensor& x, const Tensor& o) { x *= o; },
       [](const Tensor& x, const Tensor& o) { return x * o; }, true},
      {"div_", [](Tensor& x, const Tensor& o) { x.div_(o); },
       [](const Tensor& x, const Tensor& o) { return x / o; }, false},
      {"add_scalar", [](Tensor& x, const Tensor&) { x.add_(3); },
       [](const Tensor& x, const Tensor&) { return x + 3; }, true},
      {"mul_scalar", [](Tensor& x, const Tensor&) { x.mul_(-2); },
       [](const Tensor& x, const Tensor&) { return x * -2; }, true},
      {"fill_", [](Tensor& x, const Tensor&) { x.fill_(4); },
       [](const Tensor& x, const Tensor&) { return xg::full(x.sizes(), 4, x.dtype()); }, true},
      {"zero_", [](Tensor& x, const Tensor&) { x.zero_(); },
       [](const Tensor& x, const Tensor&) { return xg::zeros_like(x); }, true},
      {"copy_", [](Tensor& x, const Tensor& o) { x.copy_(o); },
       [](const Tensor& x, const Tensor& o) { return xg::zeros_like(x) + o; }, true},
  };
  for (const auto* layouts : {&layouts_2d(), &layouts_3d()}) {
    for (const Layout& l : *layouts) {
      if (!l.writable) continue;
      for (xg::Dtype d : {xg::kFloat32, xg::kFloat64, xg::kInt64}) {
        // the operands: the same layout on other values, a broadcast strided row, a contiguous one
        std::vector<std::pair<const char*, Tensor>> others = {
            {"same layout", make(l, d, 72).view},
            {"strided row", make(layouts_2d()[2], d, 73).view.select(0, 1)},
            {"contiguous", make(l, d, 74).view.contiguous()}};
        for (const auto& [other_name, other] : others) {
          for (const InPlace& op : ops) {
            if (d == xg::kInt64 && !op.int_ok) continue;
            const std::string what = trace(l.name, d, op.name) + " with " + other_name;
            SCOPED_TRACE(what);
            Made m = make(l, d, 71);
            const std::vector<double> base_before = values(m.base);
            const Tensor want = op.expected(m.view.contiguous(), other.contiguous());
            const auto version = m.base._version();
            op.apply(m.view, other);
            expect_close(m.view, want, 0, "the view's values");
            EXPECT_EQ(m.base._version(), version + 1);
            // every base element outside the view is unchanged
            Made mask = make(l, xg::kFloat64, 71);
            mask.base.zero_();
            mask.view.fill_(1);
            const std::vector<double> inside = values(mask.base), after = values(m.base);
            for (std::size_t k = 0; k < after.size(); ++k) {
              if (inside[k] == 0) {
                EXPECT_EQ(after[k], base_before[k]) << "base element " << k;
              }
            }
          }
        }
      }
    }
  }
}

// Strided sources into contiguous destinations, and a view written from a view of itself.
TEST(StridedKernels, InPlaceFromStridedSources) {
  for (const Layout& l : layouts_2d()) {
    for (xg::Dtype d : {xg::kFloat32, xg::kFloat64, xg::kInt64}) {
      SCOPED_TRACE(trace(l.name, d, ""));
      const Tensor src = make(l, d, 81).view;
      Tensor dst = xg::zeros({3, 4}, d);
      dst.copy_(src);
      EXPECT_EQ(values(dst), values(src.contiguous()));
      dst.add_(src);
      expect_close(dst, src.contiguous() * 2, 0, "add_");
      dst.sub_(src.select(0, 1));  // a strided row, broadcast
      expect_close(dst, src.contiguous() * 2 - src.contiguous().select(0, 1), 0, "sub_ row");
      Tensor f64 = xg::zeros({3, 4}, xg::kFloat64);
      f64.copy_(src);  // converting
      expect_close(f64, src.contiguous().to(xg::kFloat64), 0, "converting copy_");
    }
  }
  // one view of a tensor copied into another, non-overlapping view of it
  Tensor x = iota_tensor(16, {4, 4});
  x.narrow(0, 2, 2).narrow(1, 0, 2).copy_(x.narrow(0, 0, 2).narrow(1, 2, 2).t());
  std::vector<double> want = iota(16);
  for (int r = 0; r < 2; ++r) {
    for (int c = 0; c < 2; ++c) want[(2 + r) * 4 + c] = c * 4 + 2 + r;  // x[2+r][c] = x[c][2+r]
  }
  EXPECT_EQ(values(x), want);
}

}  // namespace
