// In-place ops on tensors computed by ops, and on views of them: as in PyTorch, the change is
// recorded (an op's result is rebased onto the in-place op; a view's base gets a CopySlices node,
// and every view of the base is seen through the base's new history).
//
//   1. A gradcheck table: Float64 programs that change a non-leaf in place (add_, sub_, mul_,
//      div_, copy_, fill_, zero_; same and broadcast shapes; self-operands; chains), and through
//      views (select, narrow, slice with a step, t, view, unsqueeze, permute, mT, split, chunk,
//      unbind, as_strided, views of views, several views of one base, older views read after
//      the change, a buffer that needs no grad filled from tensors that do). Each is compared
//      with central finite differences (PyTorch's tolerances), and rows that can be written out
//      of place are compared value for value and gradient for gradient with that version.
//   2. Second order: every row again with its first-order gradients (create_graph) as the
//      function (a gradgradcheck), and a CopySlices program compared with its out-of-place twin
//      up to the second derivative.
//   3. PyTorch's values and gradients for 17 programs (tests/reference/inplace_reference.inc,
//      written by tests/reference/make_inplace_reference.py).
//   4. The version counter: a saved tensor changed in place through another view of its
//      storage makes backward throw, as PyTorch does.
//   5. What is refused: in-place writes into overlapping views, and views whose base is not
//      contiguous; an operand that partly overlaps the written tensor.
//   6. View op edge cases the op fuzzer met (fuzz/fuzz_ops.cpp): huge slice steps, chunk of an
//      empty dim, as_strided of views without elements, an Int64 add_ with a floating alpha.
//
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <limits>
#include <memory>
#include <new>
#include <set>
#include <stdexcept>
#include <string>
#include <typeinfo>
#include <vector>
#include <xgrad/xgrad.hpp>

namespace {

using xg::Shape;
using xg::Tensor;
using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

xg::TensorOptions f64() { return xg::TensorOptions().dtype(xg::kFloat64); }
xg::TensorOptions f64g() { return f64().requires_grad(true); }

std::vector<double> values_of(const Tensor& t) {
  const auto a = t.detach().to_xarray<double>();
  return std::vector<double>(a.begin(), a.end());
}

void expect_values(const Tensor& t, const std::vector<double>& expected, double tol = 1e-12) {
  ASSERT_TRUE(t.defined());
  const std::vector<double> got = values_of(t);
  ASSERT_EQ(got.size(), expected.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    EXPECT_NEAR(got[i], expected[i], tol * std::max(1.0, std::abs(expected[i]))) << "element " << i;
  }
}

// Turns grad mode on for its lifetime (gradcheck evaluates its function under NoGradGuard; a
// function that computes gradients itself needs it back on).
class EnableGrad {
 public:
  EnableGrad() : previous_(xg::GradMode::is_enabled()) { xg::GradMode::set_enabled(true); }
  ~EnableGrad() { xg::GradMode::set_enabled(previous_); }
  EnableGrad(const EnableGrad&) = delete;
  EnableGrad& operator=(const EnableGrad&) = delete;

 private:
  bool previous_;
};

// d sum(out * v) / d inputs, zeros where an input is unused; create_graph keeps them
// differentiable.
std::vector<Tensor> vjp(const Tensor& out, const std::vector<Tensor>& inputs, const Tensor& v,
                        bool create_graph) {
  std::vector<Tensor> g = xg::autograd::grad({out}, inputs, {v}, true, create_graph, true);
  for (std::size_t i = 0; i < g.size(); ++i) {
    if (!g[i].defined()) g[i] = xg::zeros(inputs[i].shape(), f64());
  }
  return g;
}

// fn's first-order gradients, flattened into one vector, as a function of the inputs: what a
// gradgradcheck checks. v (fixed) is the upstream gradient of fn's output.
Fn first_order(const Fn& fn, const Tensor& v) {
  return [fn, v](const std::vector<Tensor>& in) {
    EnableGrad grad_on;
    const std::vector<Tensor> g = vjp(fn(in), in, v, true);
    std::vector<Tensor> flat;
    for (const Tensor& t : g) flat.push_back(t.reshape({-1}));
    return xg::cat(flat, 0);
  };
}

// ---- 1. the gradcheck table ----

struct Row {
  std::string name;
  std::vector<Shape> shapes;
  Fn fn;
  std::set<std::size_t> positive;  // inputs drawn as |randn| + 0.5 (divisors)
  Fn out_of_place;                 // the same function without in-place ops, if given
};

std::vector<Tensor> make_inputs(const Row& row, std::uint64_t seed) {
  xg::manual_seed(seed);
  std::vector<Tensor> inputs;
  for (std::size_t i = 0; i < row.shapes.size(); ++i) {
    Tensor t = xg::randn(row.shapes[i], xg::kFloat64);
    if (row.positive.count(i)) t = t.abs() + 0.5;
    inputs.push_back(t.detach().requires_grad_());
  }
  return inputs;
}

std::vector<Row> build_rows() {
  using V = const std::vector<Tensor>&;
  std::vector<Row> T;
  auto add = [&T](std::string name, std::vector<Shape> shapes, Fn fn,
                  std::set<std::size_t> pos = {}, Fn ref = nullptr) {
    T.push_back(
        Row{std::move(name), std::move(shapes), std::move(fn), std::move(pos), std::move(ref)});
  };

  // ---- on an op's result ----
  add(
      "add_same", {{2, 3}, {2, 3}},
      [](V x) {
        Tensor y = x[0] * 2;
        y.add_(x[1]);
        return y.sin();
      },
      {}, [](V x) { return (x[0] * 2 + x[1]).sin(); });
  add(
      "add_alpha_broadcast_row", {{2, 3}, {3}},
      [](V x) {
        Tensor y = x[0] * 2;
        y.add_(x[1], -1.5);
        return y * y;
      },
      {},
      [](V x) {
        const Tensor y = x[0] * 2 - 1.5 * x[1];
        return y * y;
      });
  add(
      "add_scalar_operator", {{2, 3}},
      [](V x) {
        Tensor y = x[0].sin();
        y += 1.5;
        return y * x[0];
      },
      {}, [](V x) { return (x[0].sin() + 1.5) * x[0]; });
  add(
      "add_self", {{2, 3}},
      [](V x) {
        Tensor y = x[0] * x[0];
        y.add_(y);
        return y;
      },
      {}, [](V x) { return 2 * x[0] * x[0]; });
  add(
      "sub_alpha_broadcast_col", {{2, 3}, {2, 1}},
      [](V x) {
        Tensor y = x[0] * 2;
        y.sub_(x[1], 0.5);
        return y.sin();
      },
      {}, [](V x) { return (x[0] * 2 - 0.5 * x[1]).sin(); });
  add(
      "sub_operator", {{2, 3}, {3}},
      [](V x) {
        Tensor y = x[0] * 3;
        y -= x[1];
        y -= 2;
        return y.sin();
      },
      {}, [](V x) { return (x[0] * 3 - x[1] - 2).sin(); });
  add(
      "mul_same", {{2, 3}, {2, 3}},
      [](V x) {
        Tensor y = x[0] * 2;
        y.mul_(x[1]);
        return y.sin();
      },
      {}, [](V x) { return (x[0] * 2 * x[1]).sin(); });
  add(
      "mul_broadcast_row", {{2, 3}, {3}},
      [](V x) {
        Tensor y = x[0] + 1;
        y *= x[1];
        return y * y;
      },
      {},
      [](V x) {
        const Tensor y = (x[0] + 1) * x[1];
        return y * y;
      });
  add(
      "mul_broadcast_col", {{2, 3}, {2, 1}},
      [](V x) {
        Tensor y = x[0] * 2;
        y.mul_(x[1]);
        return y.cos();
      },
      {}, [](V x) { return (x[0] * 2 * x[1]).cos(); });
  add(
      "mul_0d", {{2, 3}, {}},
      [](V x) {
        Tensor y = x[0] * 2;
        y.mul_(x[1]);
        return y;
      },
      {}, [](V x) { return x[0] * 2 * x[1]; });
  add(
      "mul_scalar", {{2, 3}},
      [](V x) {
        Tensor y = x[0].sin();
        y.mul_(-2.5);
        return y * x[0];
      },
      {}, [](V x) { return x[0].sin() * -2.5 * x[0]; });
  add(
      "mul_self", {{2, 3}},
      [](V x) {
        Tensor y = x[0] * 2;
        y.mul_(y);
        return y;
      },
      {},
      [](V x) {
        const Tensor y = x[0] * 2;
        return y * y;
      });
  add(
      "div_same", {{2, 3}, {2, 3}},
      [](V x) {
        Tensor y = x[0] * 2;
        y.div_(x[1]);
        return y.sin();
      },
      {1}, [](V x) { return (x[0] * 2 / x[1]).sin(); });
  add(
      "div_broadcast_row", {{2, 3}, {3}},
      [](V x) {
        Tensor y = x[0] * x[0];
        y /= x[1];
        return y;
      },
      {1}, [](V x) { return x[0] * x[0] / x[1]; });
  add(
      "div_scalar", {{2, 3}},
      [](V x) {
        Tensor y = x[0] * 2;
        y.div_(-0.75);
        return y.exp();
      },
      {}, [](V x) { return (x[0] * 2 / -0.75).exp(); });
  add(
      "div_self", {{2, 3}},
      [](V x) {
        Tensor y = x[0] * x[0] + 1;  // not exp: exp saves its output, which div_ changes
        y.div_(y);
        return y * x[0];
      },
      {}, [](V x) { return x[0] * 1.0; });
  add(
      "copy_same", {{2, 3}, {2, 3}},
      [](V x) {
        Tensor y = x[0] * 2;
        y.copy_(x[1]);
        return y * x[0];
      },
      {}, [](V x) { return x[1] * x[0]; });
  add(
      "copy_broadcast", {{2, 3}, {3}},
      [](V x) {
        Tensor y = x[0] * 2;
        y.copy_(x[1]);
        return y.sin() + x[0];
      },
      {},
      [](V x) {
        return x[1].expand({2, 3}).sin() + x[0];
      });
  add(
      "copy_constant", {{2, 3}},
      [](V x) {
        Tensor y = x[0] * 2;
        y.copy_(xg::tensor({1, -2, 3}, f64()));
        return y * x[0];
      },
      {},
      [](V x) {
        return xg::tensor({1, -2, 3}, f64()) * x[0];
      });
  add(
      "fill_then_use", {{2, 3}},
      [](V x) {
        Tensor y = x[0] * 2;
        y.fill_(3);
        return y * x[0] + y;
      },
      {}, [](V x) { return 3 * x[0] + 3; });
  add(
      "zero_then_add", {{2, 3}, {3}},
      [](V x) {
        Tensor y = x[0].sin();
        y.zero_();
        y.add_(x[1]);
        return y * x[0];
      },
      {}, [](V x) { return x[1] * x[0]; });
  add(
      "chain", {{2, 3}, {2, 3}},
      [](V x) {
        Tensor y = x[0] * 2;
        y.add_(x[1]).mul_(x[1]).sub_(x[0], 2).div_(x[1]);
        return y.sin();
      },
      {1}, [](V x) { return (((x[0] * 2 + x[1]) * x[1] - 2 * x[0]) / x[1]).sin(); });
  add(
      "chain_with_reads_between", {{2, 3}, {3}},
      [](V x) {
        Tensor y = x[0] * 2;
        const Tensor a = y + 1;  // reads y before the change (add saves nothing)
        y.mul_(x[1]);
        const Tensor b = y.exp();  // saves its own output, not y
        y.add_(1);
        return a * b + y;
      },
      {},
      [](V x) {
        const Tensor y0 = x[0] * 2;
        const Tensor y1 = y0 * x[1];
        return (y0 + 1) * y1.exp() + (y1 + 1);
      });

  // ---- through views ----
  add(
      "select_mul", {{2, 3}, {2}},
      [](V x) {
        Tensor y = x[0] * 2;
        y.select(1, 0).mul_(x[1]);
        return y.sin();
      },
      {},
      [](V x) {
        const Tensor y = x[0] * 2;
        return xg::cat({y.narrow(1, 0, 1) * x[1].unsqueeze(1), y.narrow(1, 1, 2)}, 1).sin();
      });
  add(
      "narrow_add", {{4, 3}, {2, 3}},
      [](V x) {
        Tensor y = x[0] * 2;
        y.narrow(0, 1, 2).add_(x[1]);
        return y * y;
      },
      {},
      [](V x) {
        const Tensor y = x[0] * 2;
        const Tensor z =
            xg::cat({y.narrow(0, 0, 1), y.narrow(0, 1, 2) + x[1], y.narrow(0, 3, 1)}, 0);
        return z * z;
      });
  add(
      "t_slice_step_div", {{3, 4}, {2, 3}},
      [](V x) {
        Tensor y = x[0] * 2;
        y.t().slice(0, 0, 3, 2).div_(x[1]);  // columns 0 and 2 of y
        return y.sin();
      },
      {1},
      [](V x) {
        const Tensor y = x[0] * 2;
        const Tensor d = x[1].t();  // [3, 2]: column k divides column 2k of y
        return xg::cat({y.narrow(1, 0, 1) / d.narrow(1, 0, 1), y.narrow(1, 1, 1),
                        y.narrow(1, 2, 1) / d.narrow(1, 1, 1), y.narrow(1, 3, 1)},
                       1)
            .sin();
      });
  add(
      "view_mul_scalar", {{2, 3}},
      [](V x) {
        Tensor y = x[0] * x[0];
        y.view({3, 2}).mul_(2);
        return y;
      },
      {}, [](V x) { return x[0] * x[0] * 2; });
  add(
      "view_flat_mul", {{2, 3}, {6}},
      [](V x) {
        Tensor y = x[0] + 1;
        y.view({6}).mul_(x[1]);
        return y.sin();
      },
      {},
      [](V x) {
        return ((x[0] + 1) * x[1].view({2, 3})).sin();
      });
  add(
      "unsqueeze_add", {{2, 3}, {1, 2, 3}},
      [](V x) {
        Tensor y = x[0] * 2;
        y.unsqueeze(0).add_(x[1]);
        return y.cos();
      },
      {}, [](V x) { return (x[0] * 2 + x[1].squeeze(0)).cos(); });
  add(
      "unsqueeze_add_broadcast", {{2, 3}, {3}},
      [](V x) {
        Tensor y = x[0] * 2;
        y.unsqueeze(1).add_(x[1]);  // [2, 1, 3] += [3]
        return y.cos();
      },
      {}, [](V x) { return (x[0] * 2 + x[1]).cos(); });
  add(
      "view_of_view_mul", {{4, 3}, {3}},
      [](V x) {
        Tensor y = x[0] + 1;
        y.narrow(0, 1, 3).select(1, 2).mul_(x[1]);
        return y.cos();
      },
      {},
      [](V x) {
        const Tensor y = x[0] + 1;
        const Tensor col = xg::cat({y.narrow(0, 0, 1).narrow(1, 2, 1),
                                    y.narrow(0, 1, 3).narrow(1, 2, 1) * x[1].unsqueeze(1)},
                                   0);
        return xg::cat({y.narrow(1, 0, 2), col}, 1).cos();
      });
  add("permute_select_add", {{2, 3, 4}, {2, 3}}, [](V x) {
    Tensor y = x[0] * 2;
    y.permute({2, 0, 1}).select(0, 1).add_(x[1]);
    return y.sin();
  });
  add("transposed_narrow_mul", {{2, 3}, {2, 2}}, [](V x) {
    Tensor y = x[0] * 2;
    y.t().narrow(0, 1, 2).mul_(x[1]);
    return y.sin();
  });
  add("mT_select_div", {{2, 3, 4}, {2, 4}},
      [](V x) {
        Tensor y = x[0] * 2;
        y.mT().select(2, 1).div_(x[1]);  // [2, 4, 3] -> [2, 4]: row 1 of each matrix
        return y.sin();
      },
      {1});
  add("reshape_view_select_mul", {{2, 3}, {3}}, [](V x) {
    Tensor y = x[0] * 2;
    y.reshape({3, 2}).select(1, 0).mul_(x[1]);
    return y.sin();
  });
  add("slice_step_1d_mul", {{6}, {3}}, [](V x) {
    Tensor y = x[0] * 2;
    y.slice(0, 1, 6, 2).mul_(x[1]);
    return y.sin();
  });
  add("split_piece_mul", {{4, 3}, {2, 3}}, [](V x) {
    Tensor y = x[0] * 2;
    y.split(2, 0)[1].mul_(x[1]);
    return y.sin();
  });
  add("split_with_sizes_piece_add", {{4, 3}, {4, 2}}, [](V x) {
    Tensor y = x[0] * 2;
    y.split_with_sizes({1, 2}, 1)[1].add_(x[1]);
    return y.sin();
  });
  add("chunk_piece_add", {{2, 5}, {2, 1}}, [](V x) {
    Tensor y = x[0] * 2;
    y.chunk(3, 1)[2].add_(x[1]);  // pieces of 2, 2, 1
    return y.sin();
  });
  add("unbind_pieces_add", {{3, 2}}, [](V x) {
    Tensor y = x[0] * 2;
    std::vector<Tensor> u = y.unbind(1);
    u[0].add_(u[1]);
    u[1].sub_(u[0], 0.5);
    return y.sin();
  });
  add("as_strided_transposed_mul", {{2, 3}, {3, 2}}, [](V x) {
    Tensor y = x[0] * 2;
    y.as_strided({3, 2}, {1, 3}).mul_(x[1]);
    return y.sin();
  });
  add("as_strided_offset_add", {{2, 3}, {2, 2}}, [](V x) {
    Tensor y = x[0] * 2;
    y.as_strided({2, 2}, {3, 1}, 1).add_(x[1]);  // elements [0, 1:3] and [1, 1:3]
    return y.sin();
  });
  add("two_views_then_older_view", {{3, 4}, {4}, {3, 2}}, [](V x) {
    Tensor y = x[0] * 2;
    const Tensor old = y.t();  // made before either change
    y.select(0, 0).mul_(x[1]);
    y.narrow(1, 1, 2).add_(x[2]);
    return old.sin();
  });
  add("older_view_of_changed_rows", {{2, 3}, {1, 3}}, [](V x) {
    Tensor y = x[0] * 2;
    const Tensor row = y.select(0, 1);
    y.narrow(0, 1, 1).mul_(x[1]);  // another view changes what row sees
    return row.sin();
  });
  add("base_changed_then_view_read", {{2, 3}, {2, 3}}, [](V x) {
    Tensor y = x[0] * 2;
    const Tensor v = y.select(0, 0);
    y.mul_(x[1]);  // the base itself changes
    return v.sin();
  });
  add("buffer_select_copy", {{3, 4}, {4}}, [](V x) {
    Tensor buf = xg::zeros({3, 4}, f64());  // needs no grad until the copy
    buf.select(0, 1).copy_(x[1]);
    return buf * x[0] + buf.sin();
  });
  add("buffer_narrow_add_alpha_then_mul", {{3, 4}, {3, 2}}, [](V x) {
    Tensor buf = xg::ones({3, 4}, f64());
    buf.narrow(1, 0, 2).add_(x[1], 2);
    buf.narrow(1, 1, 2).mul_(x[0].narrow(1, 2, 2));
    return buf * x[0];
  });
  add("through_the_view_itself", {{2, 3}, {3}}, [](V x) {
    Tensor y = x[0] * 2;
    Tensor v = y.select(0, 1);
    v.mul_(x[1]);
    v.add_(1);
    return v.sin();
  });
  add("through_the_view_and_the_base", {{2, 3}, {3}}, [](V x) {
    Tensor y = x[0] * 2;
    Tensor v = y.select(0, 1);
    v.mul_(x[1]);
    return xg::cat({v.sin(), y.flatten().cos()}, 0);
  });
  add("several_ops_on_one_view", {{2, 3}, {2}}, [](V x) {
    Tensor y = x[0] * 2;
    Tensor v = y.select(1, 1);
    v.add_(x[1]);
    v.mul_(x[1]);
    v.div_(2);
    v.sub_(y.select(1, 0));
    return y * y;
  });
  add("fill_view_then_mul", {{2, 3}}, [](V x) {
    Tensor y = x[0] * 2;
    y.narrow(0, 0, 1).fill_(3);
    y.mul_(x[0]);
    return y;
  });
  add("zero_view", {{2, 3}, {2, 3}}, [](V x) {
    Tensor y = x[0] * x[1];
    y.select(1, 2).zero_();
    return y.exp();
  });
  add("copy_between_views_of_one_base", {{2, 3}}, [](V x) {
    Tensor y = x[0] * 2;
    y.select(0, 0).copy_(y.select(0, 1));
    return y.sin() * x[0];
  });
  add("mul_self_view", {{2, 3}}, [](V x) {
    Tensor y = x[0] + 0.5;
    Tensor v = y.narrow(1, 1, 2);
    v.mul_(v);
    return y;
  });
  add("contiguous_copy_then_view", {{2, 3}, {2}}, [](V x) {
    Tensor y = (x[0] * 2).t().contiguous();  // a copy: [3, 2]
    y.select(0, 2).mul_(x[1]);
    return y.sin();
  });
  add("expand_as_operand", {{2, 3}, {1, 3}}, [](V x) {
    Tensor y = x[0] * 2;
    y.t().add_(x[1].expand_as(x[0]).t());
    return y.sin();
  });
  return T;
}

const std::vector<Row>& rows() {
  static const std::vector<Row> table = build_rows();
  return table;
}

std::string row_name(const ::testing::TestParamInfo<std::size_t>& info) {
  return rows().at(info.param).name;
}

class InplaceGradcheck : public ::testing::TestWithParam<std::size_t> {};

TEST_P(InplaceGradcheck, MatchesFiniteDifferences) {
  const Row& row = rows().at(GetParam());
  const std::vector<Tensor> inputs = make_inputs(row, 2000 + GetParam());
  const auto report = xg::autograd::gradcheck(row.fn, inputs);
  EXPECT_TRUE(report.ok) << row.name << ": " << report.message;
}

// The in-place programs give their out-of-place twins' values and gradients.
TEST(InplaceGradcheckTable, MatchesTheOutOfPlacePrograms) {
  int compared = 0;
  for (std::size_t k = 0; k < rows().size(); ++k) {
    const Row& row = rows()[k];
    if (!row.out_of_place) continue;
    SCOPED_TRACE(row.name);
    ++compared;
    const std::vector<Tensor> inputs = make_inputs(row, 2000 + k);
    const Tensor out = row.fn(inputs);
    const Tensor ref = row.out_of_place(inputs);
    ASSERT_EQ(out.shape(), ref.shape());
    expect_values(out, values_of(ref), 1e-12);
    xg::manual_seed(77);
    const Tensor v = xg::randn(out.shape(), xg::kFloat64);
    const std::vector<Tensor> g = vjp(out, inputs, v, false);
    const std::vector<Tensor> g_ref = vjp(ref, inputs, v, false);
    for (std::size_t i = 0; i < inputs.size(); ++i) {
      SCOPED_TRACE("input " + std::to_string(i));
      expect_values(g[i], values_of(g_ref[i]), 1e-10);
    }
  }
  EXPECT_GE(compared, 25);
}

// Second order: the first-order gradients (computed with create_graph through the in-place
// nodes and CopySlices) are themselves gradchecked.
TEST_P(InplaceGradcheck, GradGradMatchesFiniteDifferences) {
  const Row& row = rows().at(GetParam());
  const std::vector<Tensor> inputs = make_inputs(row, 2000 + GetParam());
  Tensor v;
  {
    xg::NoGradGuard no_grad;
    const Tensor out = row.fn(inputs);
    xg::manual_seed(3000 + GetParam());
    v = xg::randn(out.shape(), xg::kFloat64);
  }
  const auto report = xg::autograd::gradcheck(first_order(row.fn, v), inputs);
  EXPECT_TRUE(report.ok) << row.name << ": " << report.message;
}

INSTANTIATE_TEST_SUITE_P(Inplace, InplaceGradcheck, ::testing::Range<std::size_t>(0, rows().size()),
                         row_name);

TEST(InplaceGradcheckTable, RowNamesAreUnique) {
  std::set<std::string> names;
  for (const Row& r : rows()) EXPECT_TRUE(names.insert(r.name).second) << r.name;
}

// The rows through views really go through CopySlices: the base's grad_fn after the change.
TEST(InplaceRecording, ViewRowsRecordCopySlices) {
  const Tensor x = xg::randn({2, 3}, f64g());
  Tensor y = x * 2;
  EXPECT_EQ(y.grad_fn_name(), "MulBackward");
  Tensor v = y.select(1, 0);
  EXPECT_EQ(v.grad_fn_name(), "SelectBackward");
  v.mul_(3);
  EXPECT_EQ(y.grad_fn_name(), "CopySlices");
  EXPECT_EQ(v.grad_fn_name(), "AsStridedBackward");  // seen through the base's new history
  EXPECT_FALSE(y.is_leaf());
  Tensor z = x * 2;
  z.add_(1);
  EXPECT_EQ(z.grad_fn_name(), "AddBackward");
  z.copy_(x);
  EXPECT_EQ(z.grad_fn_name(), "CloneBackward");
  z.fill_(1);
  EXPECT_TRUE(z.requires_grad());  // as PyTorch: still part of the graph, with no inputs
  EXPECT_FALSE(z.is_leaf());
}

// A buffer that needs no grad becomes part of the graph when a view of it is written from a
// tensor that does; a view made before that is seen through the buffer's new history too, as
// in PyTorch (v.requires_grad is True there, v.grad_fn AsStridedBackward0).
TEST(InplaceRecording, ViewOfABufferSeesTheBuffersNewHistory) {
  const Tensor w = xg::tensor({1, 2, 3}, f64g());
  Tensor buf = xg::zeros({2, 3}, f64());
  const Tensor older = buf.select(0, 0);  // made while buf needs no grad
  EXPECT_FALSE(older.requires_grad());
  buf.select(0, 1).copy_(w);
  EXPECT_TRUE(buf.requires_grad());
  EXPECT_EQ(buf.grad_fn_name(), "CopySlices");
  // Reading the older view records it through the buffer's history.
  const Tensor loss = (older + buf.select(0, 1) * 2).sum();
  loss.backward();
  expect_values(w.grad(), {2, 2, 2});
}

TEST(InplaceRecording, OlderViewReportsRequiresGradLikePyTorch) {
  const Tensor w = xg::tensor({1, 2, 3}, f64g());
  Tensor buf = xg::zeros({2, 3}, f64());
  const Tensor older = buf.select(0, 0);
  buf.select(0, 1).copy_(w);
  // PyTorch 1.13: older.requires_grad is True and older.is_leaf False (its grad_fn is
  // regenerated from the base's when asked).
  if (!older.requires_grad()) {
    ADD_FAILURE() << "a view made before its base started requiring grad (through an "
                     "in-place op on another view) still reports requires_grad() == false and "
                     "is_leaf() == true until an op reads it; PyTorch reports True / False";
  }
  EXPECT_FALSE(older.is_leaf());
  EXPECT_EQ(older.grad_fn_name(), "AsStridedBackward");
}

// Under NoGradGuard nothing is recorded, views of leaves may change, and the version moves.
TEST(InplaceRecording, NoGradChangesAreNotRecorded) {
  const Tensor x = xg::tensor({1, 2, 3, 4, 5, 6}, {2, 3}, f64g());
  Tensor y = x * 2;
  {
    xg::NoGradGuard no_grad;
    y.select(0, 0).mul_(10);
    x.select(0, 1).add_(1);  // a view of a leaf that requires grad: fine without grad mode
  }
  EXPECT_EQ(y.grad_fn_name(), "MulBackward");
  EXPECT_EQ(x._version(), 1u);
  EXPECT_EQ(y._version(), 1u);
  expect_values(y, {20, 40, 60, 8, 10, 12});
  expect_values(x, {1, 2, 3, 5, 6, 7});
  y.sum().backward();
  expect_values(x.grad(), {2, 2, 2, 2, 2, 2});
}

// ---- 2. second order through CopySlices, against the out-of-place program ----

// y = x * x; y[:, 0] *= w; loss = sum(sin(y) * y); the gradients of loss (create_graph), then
// the gradient of sum(gx * u) + sum(gw * s): Hessian-vector products, both ways.
TEST(InplaceSecondOrder, CopySlicesMatchesTheOutOfPlaceProgram) {
  xg::manual_seed(41);
  const Tensor x = xg::randn({2, 3}, f64g());
  const Tensor w = xg::randn({2}, f64g());
  const Tensor u = xg::randn({2, 3}, f64());
  const Tensor s = xg::randn({2}, f64());
  auto loss_inplace = [&] {
    Tensor y = x * x;
    y.select(1, 0).mul_(w);
    return (y.sin() * y).sum();
  };
  auto loss_out_of_place = [&] {
    const Tensor y0 = x * x;
    const Tensor y = xg::cat({y0.narrow(1, 0, 1) * w.unsqueeze(1), y0.narrow(1, 1, 2)}, 1);
    return (y.sin() * y).sum();
  };
  auto hvp = [&](const Tensor& loss) {
    const auto g = xg::autograd::grad({loss}, {x, w}, {}, std::nullopt, true);
    const Tensor second = (g[0] * u).sum() + (g[1] * s).sum();
    const auto h = xg::autograd::grad({second}, {x, w});
    return std::vector<Tensor>{g[0], g[1], h[0], h[1]};
  };
  const Tensor a = loss_inplace();
  EXPECT_EQ(a.grad_fn_name(), "SumBackward");
  const auto got = hvp(a);
  const auto expected = hvp(loss_out_of_place());
  for (std::size_t i = 0; i < got.size(); ++i) {
    SCOPED_TRACE(i);
    expect_values(got[i], values_of(expected[i]), 1e-10);
  }
  // and both are right: gradgradcheck of the in-place version
  const Tensor v = xg::ones({}, f64());
  const auto report = xg::autograd::gradcheck(first_order(
                                                  [](const std::vector<Tensor>& in) {
                                                    Tensor y = in[0] * in[0];
                                                    y.select(1, 0).mul_(in[1]);
                                                    return (y.sin() * y).sum();
                                                  },
                                                  v),
                                              {x, w});
  EXPECT_TRUE(report.ok) << report.message;
}

// ---- 3. PyTorch's numbers ----

struct RawInput {
  std::initializer_list<std::int64_t> shape;
  std::initializer_list<double> values;
};

struct RawInplaceCase {
  const char* name;
  std::initializer_list<RawInput> inputs;
  std::initializer_list<std::int64_t> out_shape;
  std::initializer_list<double> out;
  std::initializer_list<double> weights;
  std::initializer_list<std::initializer_list<double>> grads;
};

const RawInplaceCase kRawInplaceCases[] = {
#include "reference/inplace_reference.inc"
};

// The programs of tests/reference/make_inplace_reference.py, op for op.
Fn program(const std::string& name) {
  using V = const std::vector<Tensor>&;
  if (name == "chain_on_result") {
    return [](V x) {
      Tensor y = x[0] * 2;
      y.add_(x[1]);
      y.mul_(x[1]);
      y.sub_(x[0], 0.5);
      y.div_(x[1]);
      return y.sin();
    };
  }
  if (name == "mul_broadcast_row") {
    return [](V x) {
      Tensor y = x[0].sin();
      y.mul_(x[1]);
      y.add_(x[1], -1.5);
      return y;
    };
  }
  if (name == "select_mul") {
    return [](V x) {
      Tensor y = x[0] * 2;
      y.select(1, 0).mul_(x[1]);
      return y.sin();
    };
  }
  if (name == "narrow_add") {
    return [](V x) {
      Tensor y = x[0] * 2;
      y.narrow(0, 1, 2).add_(x[1]);
      return y * y;
    };
  }
  if (name == "t_slice_div") {
    return [](V x) {
      Tensor y = x[0] * 2;
      y.t().slice(0, 0, 3, 2).div_(x[1]);
      return y.sin();
    };
  }
  if (name == "view_of_view_mul") {
    return [](V x) {
      Tensor y = x[0] + 1;
      y.narrow(0, 1, 3).select(1, 2).mul_(x[1]);
      return y.cos();
    };
  }
  if (name == "two_views_then_older_view") {
    return [](V x) {
      Tensor y = x[0] * 2;
      const Tensor old = y.t();
      y.select(0, 0).mul_(x[1]);
      y.narrow(1, 1, 2).add_(x[2]);
      return old.sin();
    };
  }
  if (name == "buffer_copy") {
    return [](V x) {
      Tensor buf = xg::zeros({3, 4}, f64());
      buf.select(0, 1).copy_(x[1]);
      buf.narrow(1, 2, 2).mul_(x[0].narrow(1, 0, 2));
      return buf * x[0];
    };
  }
  if (name == "through_the_view") {
    return [](V x) {
      Tensor y = x[0] * 2;
      Tensor v = y.select(0, 1);
      v.mul_(x[1]);
      v.add_(1);
      return v.sin();
    };
  }
  if (name == "sibling_views") {
    return [](V x) {
      Tensor y = x[0] * 2;
      Tensor a = y.select(1, 0);
      Tensor b = y.select(1, 1);
      a.add_(b);
      b.sub_(a, 0.5);
      return y.sin();
    };
  }
  if (name == "as_strided_mul") {
    return [](V x) {
      Tensor y = x[0] * 2;
      y.as_strided({3, 2}, {1, 3}).mul_(x[1]);
      return y.sin();
    };
  }
  if (name == "fill_then_use") {
    return [](V x) {
      Tensor y = x[0] * 2;
      y.narrow(0, 0, 1).fill_(3);
      y.mul_(x[0]);
      return y;
    };
  }
  if (name == "copy_into_transposed_row") {
    return [](V x) {
      Tensor y = x[0] * 2;
      y.t().select(1, 1).copy_(x[1]);
      return y.exp();
    };
  }
  if (name == "mul_self_view") {
    return [](V x) {
      Tensor y = x[0] + 0.5;
      Tensor v = y.narrow(1, 1, 2);
      v.mul_(v);  // the script writes v.mul_(v.clone()): PyTorch refuses v.mul_(v) at backward
      return y;
    };
  }
  if (name == "unsqueeze_and_flat_views") {
    return [](V x) {
      Tensor y = x[0] * 2;
      y.unsqueeze(0).add_(x[1]);
      y.view({6}).mul_(x[0].view({6}));
      return y.sin();
    };
  }
  if (name == "second_order_select_mul") {
    return [](V x) {
      Tensor y = x[0] * x[0];
      y.select(1, 0).mul_(x[1]);
      const Tensor loss = (y.sin() * y).sum();
      const auto g = xg::autograd::grad({loss}, {x[0], x[1]}, {}, std::nullopt, true);
      return g[0].sin().sum() + (g[1] * g[1]).sum();
    };
  }
  if (name == "second_order_chain") {
    return [](V x) {
      Tensor y = x[0] * 2;
      y.mul_(x[1]);
      y.add_(x[0].exp());
      y.narrow(0, 0, 2).div_(x[1].narrow(0, 0, 2));
      const Tensor loss = y.pow(3).sum();
      const auto g = xg::autograd::grad({loss}, {x[0], x[1]}, {}, std::nullopt, true);
      return g[0] * g[1];
    };
  }
  return nullptr;
}

std::string reference_name(const ::testing::TestParamInfo<std::size_t>& info) {
  return kRawInplaceCases[info.param].name;
}

class InplaceReference : public ::testing::TestWithParam<std::size_t> {};

TEST_P(InplaceReference, MatchesPyTorch) {
  const RawInplaceCase& c = kRawInplaceCases[GetParam()];
  const Fn fn = program(c.name);
  ASSERT_TRUE(fn) << "no C++ program named " << c.name;
  std::vector<Tensor> inputs;
  for (const RawInput& in : c.inputs) {
    inputs.push_back(xg::tensor(std::vector<double>(in.values), Shape(in.shape), f64g()));
  }
  const Tensor out = fn(inputs);
  ASSERT_EQ(out.shape(), Shape(c.out_shape));
  expect_values(out, std::vector<double>(c.out), 1e-10);
  const Tensor v = xg::tensor(std::vector<double>(c.weights), Shape(c.out_shape), f64());
  const std::vector<Tensor> g = vjp(out, inputs, v, false);
  ASSERT_EQ(g.size(), c.grads.size());
  std::size_t i = 0;
  for (const auto& expected : c.grads) {
    SCOPED_TRACE("gradient of input " + std::to_string(i));
    expect_values(g[i++], std::vector<double>(expected), 1e-9);
  }
}

INSTANTIATE_TEST_SUITE_P(PyTorch, InplaceReference,
                         ::testing::Range<std::size_t>(0, std::size(kRawInplaceCases)),
                         reference_name);

// ---- 4. the version counter through views ----

std::string backward_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

std::string modified_message(const std::string& node, const std::string& saved_at,
                             const std::string& now) {
  return "backward: a tensor needed for gradient computation was modified by an in-place "
         "operation: " +
         node + " saved it at version " + saved_at + ", it is now at version " + now +
         "; change a clone() instead, or do the in-place op after backward";
}

// PyTorch: y = x * 2; z = y.sin(); y.t().mul_(2); z.sum().backward() raises "one of the
// variables needed for gradient computation has been modified by an inplace operation".
TEST(InplaceVersionCounter, SavedInputChangedThroughATransposedView) {
  const Tensor x = xg::randn({2, 3}, f64g());
  Tensor y = x * 2;
  const Tensor z = y.sin();  // saves y
  y.t().mul_(2);
  EXPECT_EQ(backward_error([&] { z.sum().backward(); }),
            modified_message("SinBackward (sin on [2, 3] Float64)", "0", "1"));
}

TEST(InplaceVersionCounter, SavedViewChangedThroughItsBase) {
  const Tensor x = xg::randn({2, 3}, f64g());
  Tensor y = x * 2;
  const Tensor z = y.select(0, 0).sin();  // saves the view
  y.add_(1);
  y.add_(1);
  EXPECT_EQ(backward_error([&] { z.sum().backward(); }),
            modified_message("SinBackward (sin on [3] Float64)", "0", "2"));
}

// Other elements of the same storage: PyTorch counts versions per storage, and so does xgrad.
TEST(InplaceVersionCounter, SavedViewChangedThroughASiblingView) {
  const Tensor x = xg::randn({2, 3}, f64g());
  Tensor y = x * 2;
  const Tensor z = y.select(0, 0).sin();
  y.select(0, 1).mul_(2);
  EXPECT_EQ(backward_error([&] { z.sum().backward(); }),
            modified_message("SinBackward (sin on [3] Float64)", "0", "1"));
}

// exp saves its output: changing that output in place (directly or through a view) invalidates
// it, as PyTorch's "output 0 of ExpBackward0 ... is at version 1".
TEST(InplaceVersionCounter, SavedOutputChangedInPlace) {
  const Tensor x = xg::randn({2, 3}, f64g());
  Tensor y = x.exp();
  y.mul_(2);
  EXPECT_NE(backward_error([&] { y.sum().backward(); }).find("ExpBackward (exp on [2, 3] Float64)"),
            std::string::npos);
  Tensor e = x.exp();
  e.narrow(0, 0, 1).zero_();
  EXPECT_EQ(backward_error([&] { e.sum().backward(); }),
            modified_message("ExpBackward (exp on [2, 3] Float64)", "0", "1"));
}

// mul_ saves its other operand: writing to another view of that operand's storage afterwards
// invalidates it (PyTorch: a.add_(b); b.mul_(a) raises at backward, since b's write moves the
// version a was saved at).
TEST(InplaceVersionCounter, OperandSavedByAnInPlaceOpChangedThroughASibling) {
  const Tensor x = xg::randn({3, 2}, f64g());
  Tensor y = x * 2;
  Tensor a = y.select(1, 0);
  Tensor b = y.select(1, 1);
  b.mul_(a);  // saves a at version 0, then writes b: version 1
  const std::string msg = backward_error([&] { y.sum().backward(); });
  EXPECT_EQ(msg, modified_message("MulBackward (mul on [3] Float64, [3] Float64)", "0", "1"));
}

// A detach()ed handle shares the data and its version counter.
TEST(InplaceVersionCounter, DetachedHandleSharesTheCounter) {
  const Tensor x = xg::randn({2, 3}, f64g());
  Tensor y = x * 2;
  const Tensor z = y.sin();
  Tensor d = y.t().detach();
  d.mul_(2);
  EXPECT_EQ(y._version(), 1u);
  EXPECT_EQ(backward_error([&] { z.sum().backward(); }),
            modified_message("SinBackward (sin on [2, 3] Float64)", "0", "1"));
}

// Views share the counter; a change made before an op saves its input is fine, and a change to
// a copy is never seen.
TEST(InplaceVersionCounter, ChangesBeforeSavingOrToACopyAreFine) {
  const Tensor x = xg::tensor({0.5, -1, 2, 0.25, 1.5, -0.75}, {2, 3}, f64g());
  Tensor y = x * 2;
  Tensor v = y.t();
  EXPECT_EQ(y._version(), 0u);
  v.mul_(3);
  EXPECT_EQ(y._version(), 1u);
  EXPECT_EQ(v._version(), 1u);
  EXPECT_EQ(y.select(0, 0)._version(), 1u);
  const Tensor z = y.sin();  // saves y at version 1
  y.clone().mul_(2);         // another storage
  z.sum().backward();
  std::vector<double> expected;
  for (double xv : values_of(x)) expected.push_back(6 * std::cos(6 * xv));
  expect_values(x.grad(), expected);
}

// A graph must not keep itself alive. An in-place op on a view (or on the base) whose node
// saves another view of the same base makes a cycle: the base's grad_fn (CopySlices, or the
// op's node) owns the saved view, and the view owns its base (view_base). A backward that
// succeeds frees the saved tensors; these ones can only fail (the write changes the saved
// view's storage), so nothing breaks the cycle.
TEST(InplaceMemory, SavedViewOfTheSameBaseIsReleased) {
  std::weak_ptr<xg::detail::TensorImpl> through_view, through_base;
  {
    const Tensor x = xg::randn({3, 2}, f64g());
    Tensor y = x * 2;
    y.select(1, 1).mul_(y.select(1, 0));
    through_view = y.impl();
    Tensor z = x * 3;
    z.mul_(z.select(1, 0).unsqueeze(1));
    through_base = z.impl();
  }
  EXPECT_TRUE(through_view.expired()) << "y.select(1, 1).mul_(y.select(1, 0)) leaked its graph";
  EXPECT_TRUE(through_base.expired()) << "z.mul_(z.select(1, 0).unsqueeze(1)) leaked its graph";
}

// ---- 5. what is refused ----

TEST(InplaceRefused, OverlappingViewThrowsAndChangesNothing) {
  const Tensor x = xg::tensor({1, 2, 3}, f64g());
  Tensor y = x * 2;
  Tensor e = y.expand({2, 3});
  for (const auto& op : std::vector<std::function<void()>>{[&] { e.add_(1); },
                                                           [&] {
                                                             e.mul_(xg::ones({2, 3}, f64()));
                                                           },
                                                           [&] { e.fill_(0); },
                                                           [&] {
                                                             e.copy_(xg::zeros({2, 3}, f64()));
                                                           },
                                                           [&] { e.zero_(); }}) {
    EXPECT_THROW(op(), std::runtime_error);
  }
  expect_values(y, {2, 4, 6});
  EXPECT_EQ(y._version(), 0u);
  EXPECT_EQ(y.grad_fn_name(), "MulBackward");
  // as_strided with a zero stride overlaps too
  EXPECT_THROW(y.as_strided({2}, {0}).mul_(2), std::runtime_error);
  expect_values(y, {2, 4, 6});
}

// An operand that partly overlaps the tensor written in place: PyTorch refuses it ("unsupported
// operation: some elements of the input tensor and the written-to tensor refer to a single
// memory location"). Whatever xgrad does, the recorded (grad mode) and unrecorded runs must
// agree, and neither may depend on the order the kernel visits elements in: y[1:] += y[:4]
// read before the write gives [0, 1, 3, 5, 7].
TEST(InplaceRefused, PartlyOverlappingOperand) {
  const std::vector<double> read_first = {0, 1, 3, 5, 7};
  Tensor plain = xg::arange(5.0, f64());
  const Tensor w = xg::zeros({5}, f64g());
  Tensor recorded = xg::arange(5.0, f64()) + w;
  std::string plain_error, recorded_error;
  try {
    plain.narrow(0, 1, 4).add_(plain.narrow(0, 0, 4));
  } catch (const std::exception& e) {
    plain_error = e.what();
  }
  try {
    recorded.narrow(0, 1, 4).add_(recorded.narrow(0, 0, 4));
  } catch (const std::exception& e) {
    recorded_error = e.what();
  }
  if (!plain_error.empty() || !recorded_error.empty()) {
    // refused, as PyTorch: then both are, and nothing changed
    EXPECT_FALSE(plain_error.empty());
    EXPECT_FALSE(recorded_error.empty());
    expect_values(plain, {0, 1, 2, 3, 4});
    return;
  }
  const std::vector<double> p = values_of(plain), r = values_of(recorded);
  if (p != read_first || r != read_first) {
    ADD_FAILURE() << "y.narrow(0, 1, 4).add_(y.narrow(0, 0, 4)) on y = arange(5) gives "
                  << ::testing::PrintToString(p) << " without grad and "
                  << ::testing::PrintToString(r)
                  << " when recorded (the kernel reads elements it already wrote); PyTorch "
                     "refuses the partial overlap, and reading before writing gives "
                     "[0, 1, 3, 5, 7]";
  }
}

// xgrad records an in-place change of a view only when the view's base is contiguous.
TEST(InplaceRefused, ViewOfANonContiguousBaseThrows) {
  const Tensor w = xg::tensor({1, 2}, f64g());
  Tensor base = xg::tensor({1, 2, 3, 4, 5, 6}, {2, 3}, f64()).t().detach();  // [3, 2], strided
  EXPECT_FALSE(base.is_contiguous());
  EXPECT_THROW(base.select(0, 0).mul_(w), std::runtime_error);
}

// errors.md: "A call that throws changes nothing".
TEST(InplaceRefused, ViewOfANonContiguousBaseChangesNothing) {
  const Tensor w = xg::tensor({10, 20}, f64g());
  Tensor base = xg::tensor({1, 2, 3, 4, 5, 6}, {2, 3}, f64()).t().detach();  // [[1, 4], [2, 5], ..]
  EXPECT_THROW(base.select(0, 0).mul_(w), std::runtime_error);
  const std::vector<double> after = values_of(base);
  const std::uint64_t version = base._version();
  if (after != std::vector<double>{1, 4, 2, 5, 3, 6} || version != 0) {
    ADD_FAILURE() << "the refused in-place op on a view of a non-contiguous base wrote its "
                     "result first (base is now "
                  << ::testing::PrintToString(after) << ", version " << version
                  << "; expected [1, 4, 2, 5, 3, 6], version 0)";
  }
  EXPECT_FALSE(base.requires_grad());
}

// ---- 6. view op edge cases met while extending the op fuzzer ----

// x[0:4:step] has ceil(4 / step) = 1 element for any step >= 4, as Python's slicing says.
// (PyTorch 1.13 gives 0 elements for step 2^63 - 1: the same overflow.) A slice of a slice
// multiplies the strides: x[::2^40][::2^40] has one element, whatever its stride.
TEST(ViewEdgeCases, SliceWithAHugeStep) {
  const Tensor x = xg::arange(4.0, f64());
  EXPECT_EQ(x.slice(0, 0, 4, std::int64_t{1} << 40).shape(), Shape{1});
  const Tensor twice =
      x.slice(0, 0, 4, std::int64_t{1} << 40).slice(0, 0, 1, std::int64_t{1} << 40);
  EXPECT_EQ(twice.shape(), Shape{1});
  EXPECT_EQ(twice.item<double>(), 0.0);
  const Tensor s = x.slice(0, 0, 4, std::numeric_limits<std::int64_t>::max());
  if (s.shape() != Shape{1}) {
    ADD_FAILURE() << "slice(0, 0, 4, INT64_MAX) of a [4] tensor has shape "
                  << xg::shape_to_string(s.shape())
                  << ", expected [1]: slice computes (end - start + step - 1) / step, which "
                     "overflows int64 (undefined behaviour; UBSan reports it)";
  }
  EXPECT_EQ(s.item<double>(), 0.0);
}

// An empty slice at the end of a dim whose stride is huge (as_strided allows any stride on a
// dim of size 1): start * stride overflows int64, and the slice keeps its input's offset.
TEST(ViewEdgeCases, EmptySliceAfterAHugeStride) {
  const Tensor x = xg::arange(4.0, f64());
  const Tensor v = x.as_strided({1}, {std::numeric_limits<std::int64_t>::max()}, 1);
  EXPECT_EQ(v.item<double>(), 1.0);
  const Tensor e = v.slice(0, 1);
  EXPECT_EQ(e.shape(), Shape{0});
  EXPECT_GE(e.storage_offset(), 0);
  EXPECT_LE(e.storage_offset(), 4);
}

// select and narrow of an empty view whose other dim has a huge stride (as_strided allows it:
// the view reads nothing): index * stride overflows int64, and the result keeps its input's
// offset. Found by the op fuzzer (UBSan: signed integer overflow in select).
TEST(ViewEdgeCases, SelectAndNarrowOfAnEmptyViewWithAHugeStride) {
  const Tensor x = xg::arange(4.0, f64());
  const std::int64_t huge = std::numeric_limits<std::int64_t>::max();
  const Tensor v = x.as_strided({5, 0}, {huge, 1}, 1);
  const Tensor s = v.select(0, 4);
  EXPECT_EQ(s.shape(), Shape{0});
  EXPECT_EQ(s.storage_offset(), 1);
  const Tensor n = v.narrow(0, 4, 1);
  EXPECT_EQ(n.shape(), (Shape{1, 0}));
  EXPECT_EQ(n.storage_offset(), 1);
  EXPECT_EQ(v.select(0, 0).storage_offset(), 1);  // 0 * stride moves nothing
}

// chunk of an empty dim gives `chunks` empty pieces, as in PyTorch; a count too large for a
// vector must fail with one of xgrad's documented types (PyTorch: RuntimeError "cannot create
// std::vector larger than max_size()").
TEST(ViewEdgeCases, ChunkOfAnEmptyDimIntoTooManyPieces) {
  EXPECT_EQ(xg::zeros({0}, f64()).chunk(5).size(), 5u);
  try {
    (void)xg::zeros({0}, f64()).chunk(std::numeric_limits<std::int64_t>::max());
    ADD_FAILURE() << "did not throw";
  } catch (const std::invalid_argument&) {
  } catch (const std::runtime_error&) {
  } catch (const std::bad_alloc&) {
  } catch (const std::exception& e) {
    ADD_FAILURE() << "zeros({0}).chunk(INT64_MAX) throws " << typeid(e).name() << " (" << e.what()
                  << "), a type docs/errors.md does not list: it builds a vector of INT64_MAX "
                     "split sizes";
  }
}

// masked_fill_ is recorded like the other in-place ops. By hand: y = 2x, then the masked
// elements are replaced by v, so d sum(y)/dx is 2 off the mask and 0 on it, and d sum(y)/dv is
// the number of masked elements.
TEST(InplaceRecording, MaskedFillOnAComputedTensorAndAView) {
  const Tensor x = xg::ones({2, 3}, xg::dtype(xg::kFloat64).requires_grad(true));
  const Tensor v = xg::scalar_tensor(3.0, xg::dtype(xg::kFloat64).requires_grad(true));
  const Tensor mask = xg::tensor({1, 0, 0, 0, 1, 0}, {2, 3}, xg::kFloat64).to(xg::kBool);
  Tensor y = x * 2;
  y.masked_fill_(mask, v);
  expect_values(y, {3, 2, 2, 2, 3, 2});
  y.sum().backward();
  expect_values(x.grad(), {0, 2, 2, 2, 0, 2});
  expect_values(v.grad(), {2});
  // Through a view: row 1 of z, masked at its middle element, with a number.
  Tensor z = x * 2;
  z.select(0, 1).masked_fill_(mask.select(0, 1), -1.0);
  expect_values(z, {2, 2, 2, 2, -1, 2});
  x.mutable_grad() = {};
  z.sum().backward();
  expect_values(x.grad(), {2, 2, 2, 2, 0, 2});
}

// add/sub and add_/sub_ of integral tensors with a floating alpha (even 2.0): PyTorch 1.13
// refuses each ("For integral input tensors, argument alpha must not be a floating point
// number."), rather than truncate alpha (an inf or NaN alpha would be undefined behaviour).
// An integral alpha, or a floating operand, is fine.
TEST(ViewEdgeCases, IntegralAddWithAFloatingAlpha) {
  Tensor t = xg::arange(3);
  EXPECT_THROW(t.add_(xg::arange(3), 0.5), std::invalid_argument);
  EXPECT_THROW(t.sub_(xg::arange(3), 2.0), std::invalid_argument);
  EXPECT_THROW(t.add_(xg::arange(3), std::nan("")), std::invalid_argument);
  EXPECT_EQ(values_of(t), (std::vector<double>{0, 1, 2}));
  EXPECT_EQ(t._version(), 0u);
  EXPECT_THROW((void)xg::add(t, t, 0.5), std::invalid_argument);
  EXPECT_THROW((void)xg::sub(t, t, 1.0), std::invalid_argument);
  EXPECT_THROW((void)xg::add(t.gt(0), t.gt(1), 0.5), std::invalid_argument);
  t.add_(xg::arange(3), 2);
  EXPECT_EQ(values_of(t), (std::vector<double>{0, 3, 6}));
  const Tensor f = xg::add(t, t.to(xg::kFloat64), 0.5);  // 0 + 0, 3 + 1.5, 6 + 3
  EXPECT_EQ(f.dtype(), xg::kFloat64);
  EXPECT_EQ(values_of(f), (std::vector<double>{0, 4.5, 9}));
}

// as_strided of a view with no elements accepts any strides (as PyTorch); its backward's
// extent computation must not overflow on them.
TEST(ViewEdgeCases, AsStridedEmptyViewWithHugeStrides) {
  const Tensor x = xg::zeros({4}, f64g());
  const Tensor v = x.as_strided({16, 0}, {(std::int64_t{1} << 62) + 1, 1});
  EXPECT_EQ(v.shape(), (Shape{16, 0}));
  v.sum().backward();
  expect_values(x.grad(), {0, 0, 0, 0});
}

// The out-of-bounds message of as_strided gives the storage the view needs in bytes; a view
// whose extent fits in int64 elements but not in bytes must say so, not wrap around.
TEST(ViewEdgeCases, AsStridedOutOfBoundsMessage) {
  std::string message;
  try {
    (void)xg::ones({6}).as_strided({2}, {std::int64_t{1} << 62});
  } catch (const std::invalid_argument& e) {
    message = e.what();
  }
  ASSERT_FALSE(message.empty()) << "did not throw std::invalid_argument";
  const std::string expected =
      "as_strided: sizes [2], strides [4611686018427387904], storage offset 0 and itemsize 4 "
      "need a storage of more than int64 can count bytes, out of bounds for the storage of 24 "
      "bytes behind [6] Float32";
  EXPECT_EQ(message, expected);
}

}  // namespace
