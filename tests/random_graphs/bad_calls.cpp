// The random-graph builder's calls that do not fit, made on a built graph's tensors: each must
// throw its documented type and leave its operands as they were, or, for random pairings of
// entries, give the shape a model of the op predicts (see builder.hpp).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>
#include <xgrad/xgrad.hpp>

#include "builder.hpp"

namespace xg_test::random_graphs {

// Two tensors derived from entry a whose shapes do not broadcast.
std::pair<Tensor, Tensor> Builder::clashing_pair(const Tensor& x) {
  const Shape s = x.shape();
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] >= 2) return {x, xg::cat({x, x}, static_cast<std::int64_t>(i))};
  }
  const Tensor one = x.reshape({1});
  return {one.expand({2}), one.expand({3})};
}

Mismatch Builder::random_mismatch() {
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

// View ops (select, slice, split, split_with_sizes, chunk, as_strided, mT) with arguments that do
// not fit, and in-place writes through views that must be refused: into an expanded view (elements
// that share one location) and into a view of a leaf that requires grad.
Mismatch Builder::view_mismatch(std::size_t a) {
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
Mismatch Builder::random_pairing(std::size_t a, std::size_t b) {
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
  const std::string text = std::string(kNames[op]) + "(" + ref(a) + " " + str(sa) + ", " + ref(b) +
                           " " + str(sb) +
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

}  // namespace xg_test::random_graphs
