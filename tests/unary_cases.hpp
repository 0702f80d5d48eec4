// The test table of the unary ops, in the style of PyTorch's OpInfo: one row per op, saying what
// the tests need beyond the registry (tensor/op_table.hpp): the inputs on which the op is smooth.
// The free function, the method and the name come from the registry row, so a test that walks
// unary_cases() covers every op, and OpRegistry.EveryOpHasATestRow fails when a row is missing.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>
#include <xgrad/tensor/kernels.hpp>
#include <xgrad/xgrad.hpp>

namespace xg_test {

using xg::Tensor;

// Where an op's derivative exists and gradcheck can take finite differences.
enum class Domain {
  Any,       // every real
  Kink0,     // every real but 0, where it has a kink (abs, relu) or a jump (sign)
  Positive,  // x > 0 (log, sqrt, rsqrt)
  GtMinus1,  // x > -1 (log1p)
  NonZero,   // x != 0, where the op has a pole
};

struct UnaryRow {
  const char* name;
  Domain domain;
};

// One row per op of XG_UNARY_OPS, in its order.
// clang-format off
inline constexpr UnaryRow kUnaryRows[] = {
    {"neg", Domain::Any},
    {"abs", Domain::Kink0},
    {"exp", Domain::Any},
    {"log", Domain::Positive},
    {"sqrt", Domain::Positive},
    {"rsqrt", Domain::Positive},
    {"sin", Domain::Any},
    {"cos", Domain::Any},
    {"tanh", Domain::Any},
    {"sigmoid", Domain::Any},
    {"relu", Domain::Kink0},
    {"gelu", Domain::Any},
    {"sign", Domain::Kink0},
    {"square", Domain::Any},
    {"erf", Domain::Any},
    {"log1p", Domain::GtMinus1},
    {"reciprocal", Domain::NonZero},
};
// clang-format on

struct UnaryCase {
  const char* name;
  Tensor (*fn)(const Tensor&);       // xg::name
  Tensor (Tensor::*method)() const;  // Tensor::name
  Domain domain;
  xg::kernels::UnaryOp op;  // its registry row's enum value

  // Whether an Int64 input gives an Int64 result (the registry's KeepInt), computed exactly.
  bool keeps_int() const {
    return xg::kernels::unary_int_input(op) == xg::kernels::IntInput::KeepInt;
  }
  // x moved into the op's domain: |x| + 0.5 for Positive, |x| for GtMinus1, 0.5 further from 0
  // for NonZero.
  Tensor in_domain(const Tensor& x) const {
    if (domain == Domain::Positive) return x.abs() + 0.5;
    if (domain == Domain::GtMinus1) return x.abs();
    if (domain == Domain::NonZero) return xg::where(x.ge(0), x + 0.5, x - 0.5);
    return x;
  }
};

inline const UnaryRow* find_unary_row(std::string_view name) {
  for (const auto& row : kUnaryRows) {
    if (name == row.name) return &row;
  }
  return nullptr;
}

// Every registry op joined with its test row; an op without one is left out here (and reported
// by OpRegistry.EveryOpHasATestRow).
inline const std::vector<UnaryCase>& unary_cases() {
  static const std::vector<UnaryCase> cases = [] {
    std::vector<UnaryCase> out;
    auto add = [&](const char* name, Tensor (*fn)(const Tensor&), Tensor (Tensor::*method)() const,
                   xg::kernels::UnaryOp op) {
      if (const UnaryRow* row = find_unary_row(name)) {
        out.push_back({name, fn, method, row->domain, op});
      }
    };
#define XG_TEST_UNARY_CASE(E, name, ...) \
  add(#name, &xg::name, &Tensor::name, xg::kernels::UnaryOp::E);
    XG_UNARY_OPS(XG_TEST_UNARY_CASE)
#undef XG_TEST_UNARY_CASE
    return out;
  }();
  return cases;
}

// The registry's names, in table order.
inline std::vector<std::string> registry_unary_names() {
  std::vector<std::string> out;
#define XG_TEST_UNARY_NAME(E, name, ...) out.emplace_back(#name);
  XG_UNARY_OPS(XG_TEST_UNARY_NAME)
#undef XG_TEST_UNARY_NAME
  return out;
}

inline std::vector<std::string> registry_comparison_names() {
  std::vector<std::string> out;
#define XG_TEST_COMPARISON_NAME(E, name, ...) out.emplace_back(#name);
  XG_COMPARISON_OPS(XG_TEST_COMPARISON_NAME)
#undef XG_TEST_COMPARISON_NAME
  return out;
}

inline const UnaryCase* find_unary(std::string_view name) {
  for (const auto& c : unary_cases()) {
    if (name == c.name) return &c;
  }
  return nullptr;
}

}  // namespace xg_test
