// Randomized, seeded graphs over every differentiable op, each gradchecked, rerun in Float32 and
// in mixed dtypes, and used for calls that must fail.
//
// Each graph is built from its own seed: a few leaves whose shapes broadcast together (ranks 0 to
// 3, sizes 1 to 3 and now and then 4 or 5, size-1 dims and 0-d tensors included), then 4 to 12
// steps, each an op applied to entries picked from the pool of everything built so far (so
// intermediate results are reused; matmul, linear and the losses may add weight and target leaves),
// and an output that also reads every entry nothing else read. The builder runs every step on the
// graph's own values as it goes, so it can keep each op in its domain: positive inputs for log,
// sqrt, rsqrt and fractional powers, divisors away from 0, relu/abs/sign/clamp/l1 inputs away from
// their kinks, maximum/minimum operands away from ties, amax/amin/max/min/argmax groups and where
// conditions with a clear margin. Values past 4 are soft-bounded. Shape steps include the view ops
// (select, slice with a step, split/split_with_sizes/chunk/unbind pieces, as_strided with
// non-overlapping strides, mT, expand_as, contiguous), so later steps read strided views. In-place
// steps change a tensor computed from an entry (a clone, a multiple, or a zeros buffer that needs
// no grad into which part of the entry is copied; never a pool entry itself) one to three times,
// directly or through a chain of views: add_, sub_, mul_, div_ (by a positive entry or a scalar),
// copy_, fill_, zero_, with operands that broadcast, 0-d means, scalars, the view itself or another
// view of the same tensor. The step gives the changed tensor, a view of it, or a view made before
// the changes.
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
//
// The builder, its op table and the calls that do not fit are in tests/random_graphs/ (builder.hpp
// says which file holds what); this file holds the checks and the test.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <map>
#include <random>
#include <string>
#include <typeinfo>
#include <utility>
#include <vector>
#include <xgrad/xgrad.hpp>

#include "random_graphs/builder.hpp"
#include "unary_cases.hpp"

namespace {

using namespace xg_test::random_graphs;

constexpr int kDefaultGraphs = 3000;

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
