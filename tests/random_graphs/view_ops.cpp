// The random-graph builder's shape ops, view ops and in-place steps (see builder.hpp): later
// steps read strided views, and in-place steps change a tensor computed from an entry, directly
// or through a chain of views.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>
#include <xgrad/xgrad.hpp>

#include "builder.hpp"

namespace xg_test::random_graphs {

bool Builder::add_shape_op(std::size_t a) {
  const Shape sa = shape(a);
  const std::int64_t r = rank(a);
  const std::string x = ref(a);
  const bool method = chance(0.4);
  const std::size_t which = uniform(23);
  if (which >= 15) {
    // the view ops: select, slice with a step, split/split_with_sizes/chunk/unbind pieces,
    // as_strided, mT (or t), expand_as, contiguous
    static const int kKinds[] = {0, 2, 9, 9, 10, 4, 11, 12};
    return add_view_op(a, kKinds[which - 15]);
  }
  switch (which) {
    case 0: {
      const Shape s = random_shape_with_numel(numel_of(sa));
      return push("reshape", "reshape(" + x + ", " + str(s) + ")", {a},
                  [a, s, method](const Pool& p) {
                    return method ? p[a].reshape(s) : xg::reshape(p[a], s);
                  });
    }
    case 1: {
      const Shape s = random_shape_with_numel(numel_of(sa));
      // view needs compatible strides (a transposed or expanded input has none): such an
      // input is made contiguous first, as a PyTorch user would.
      return push("view", "view(" + x + ", " + str(s) + ")", {a}, [a, s, method](const Pool& p) {
        const Tensor in = p[a].is_contiguous() ? p[a] : p[a].contiguous();
        return method ? in.view(s) : xg::view(in, s);
      });
    }
    case 2: {
      std::int64_t s = 0, e = -1;
      if (r > 0) {
        s = range(0, r - 1);
        e = range(s, r - 1);
        if (chance(0.5)) s -= r;
        if (chance(0.5)) e -= r;
      }
      return push("flatten",
                  "flatten(" + x + ", " + std::to_string(s) + ", " + std::to_string(e) + ")", {a},
                  [a, s, e, method](const Pool& p) {
                    return method ? p[a].flatten(s, e) : xg::flatten(p[a], s, e);
                  });
    }
    case 3: {
      if (chance(0.4)) {
        return push("squeeze", "squeeze(" + x + ")", {a}, [a, method](const Pool& p) {
          return method ? p[a].squeeze() : xg::squeeze(p[a]);
        });
      }
      const std::int64_t d = random_dim(r);
      return push("squeeze", "squeeze(" + x + ", " + std::to_string(d) + ")", {a},
                  [a, d, method](const Pool& p) {
                    return method ? p[a].squeeze(d) : xg::squeeze(p[a], d);
                  });
    }
    case 4: {
      const std::int64_t d = range(-(r + 1), r);
      return push("unsqueeze", "unsqueeze(" + x + ", " + std::to_string(d) + ")", {a},
                  [a, d, method](const Pool& p) {
                    return method ? p[a].unsqueeze(d) : xg::unsqueeze(p[a], d);
                  });
    }
    case 5: {
      const std::int64_t d0 = random_dim(r), d1 = random_dim(r);
      return push("transpose",
                  "transpose(" + x + ", " + std::to_string(d0) + ", " + std::to_string(d1) + ")",
                  {a}, [a, d0, d1, method](const Pool& p) {
                    return method ? p[a].transpose(d0, d1) : xg::transpose(p[a], d0, d1);
                  });
    }
    case 6: {
      Shape perm;
      for (std::int64_t d = 0; d < r; ++d) perm.push_back(d);
      std::shuffle(perm.begin(), perm.end(), rng_);
      for (auto& d : perm) {
        if (chance(0.3)) d -= r;
      }
      return push("permute", "permute(" + x + ", " + str(perm) + ")", {a},
                  [a, perm, method](const Pool& p) {
                    return method ? p[a].permute(perm) : xg::permute(p[a], perm);
                  });
    }
    case 7: {
      Shape target;
      const std::int64_t lead = r < 3 ? static_cast<std::int64_t>(uniform(2)) : 0;
      for (std::int64_t i = 0; i < lead; ++i) target.push_back(range(1, 3));
      for (auto s : sa) {
        if (s == 1 && chance(0.6)) {
          target.push_back(range(1, 3));
        } else {
          target.push_back(chance(0.3) ? -1 : s);
        }
      }
      return push("expand", "expand(" + x + ", " + str(target) + ")", {a},
                  [a, target, method](const Pool& p) {
                    return method ? p[a].expand(target) : xg::expand(p[a], target);
                  });
    }
    case 8:
    case 9: {
      if (r == 0) return add_stack(a);
      const std::int64_t d = random_dim(r);
      const std::int64_t nd = d < 0 ? d + r : d;
      auto fits = [&](std::size_t i) {
        const Shape s = shape(i);
        if (s.size() != sa.size()) return false;
        for (std::size_t k = 0; k < s.size(); ++k) {
          if (static_cast<std::int64_t>(k) != nd && s[k] != sa[k]) return false;
        }
        return true;
      };
      std::vector<std::size_t> parts = {a};
      const std::size_t more = 1 + uniform(2);
      for (std::size_t i = 0; i < more; ++i) parts.push_back(pick_where(fits).value_or(a));
      std::shuffle(parts.begin(), parts.end(), rng_);
      std::string text = "cat({";
      for (std::size_t i = 0; i < parts.size(); ++i) text += (i ? ", " : "") + ref(parts[i]);
      text += "}, " + std::to_string(d) + ")";
      return push("cat", text, parts, [parts, d](const Pool& p) {
        std::vector<Tensor> ts;
        for (auto i : parts) ts.push_back(p[i]);
        return xg::cat(ts, d);
      });
    }
    case 10:
      return add_stack(a);
    case 11:
    case 12: {
      if (r == 0) return false;
      const std::int64_t d = random_dim(r);
      const std::int64_t size = sa[static_cast<std::size_t>(d < 0 ? d + r : d)];
      std::int64_t start = range(0, size - 1);
      const std::int64_t length = range(1, size - start);
      if (chance(0.3)) start -= size;
      return push("narrow",
                  "narrow(" + x + ", " + std::to_string(d) + ", " + std::to_string(start) + ", " +
                      std::to_string(length) + ")",
                  {a}, [a, d, start, length, method](const Pool& p) {
                    return method ? p[a].narrow(d, start, length)
                                  : xg::narrow(p[a], d, start, length);
                  });
    }
    default:
      return add_index_select(a);
  }
}

Tensor Builder::apply_chain(const std::vector<ViewOp>& chain, Tensor t) {
  for (const ViewOp& v : chain) t = v.fn(t);
  return t;
}

std::string Builder::chain_text(const std::vector<ViewOp>& chain, std::string operand) {
  for (const ViewOp& v : chain) operand = v.text(operand);
  return operand;
}

// A random view of t (the builder's value, for its shape and layout) with at least one
// element, of kind `kind` (-1: any): 0 select, 1 narrow, 2 slice with a step, 3 transpose,
// 4 t or mT, 5 permute, 6 unsqueeze, 7 squeeze, 8 view (t contiguous), 9 a piece of split,
// split_with_sizes, chunk or unbind, 10 as_strided with non-overlapping strides inside t's
// own elements (t contiguous, `as_strided_ok`). nullopt when the kind does not apply to t.
std::optional<Builder::ViewOp> Builder::random_view(const Tensor& t, int kind, bool as_strided_ok) {
  const Shape s = t.shape();
  const auto r = static_cast<std::int64_t>(s.size());
  if (kind < 0) kind = static_cast<int>(uniform(11));
  auto ds = [](std::int64_t v) { return std::to_string(v); };
  // a dim (negative now and then) and its size
  auto some_dim = [&](std::int64_t& d, std::int64_t& size) {
    const std::int64_t k = range(0, r - 1);
    size = s[static_cast<std::size_t>(k)];
    d = chance(0.3) ? k - r : k;
  };
  std::int64_t d = 0, size = 0;
  switch (kind) {
    case 0: {
      if (r == 0) return std::nullopt;
      some_dim(d, size);
      const std::int64_t i = range(-size, size - 1);
      return ViewOp{"select", "%.select(" + ds(d) + ", " + ds(i) + ")",
                    [d, i](const Tensor& x) { return x.select(d, i); }};
    }
    case 1: {
      if (r == 0) return std::nullopt;
      some_dim(d, size);
      const std::int64_t start = range(0, size - 1);
      const std::int64_t length = range(1, size - start);
      return ViewOp{"narrow", "%.narrow(" + ds(d) + ", " + ds(start) + ", " + ds(length) + ")",
                    [d, start, length](const Tensor& x) { return x.narrow(d, start, length); }};
    }
    case 2: {
      if (r == 0) return std::nullopt;
      some_dim(d, size);
      std::optional<std::int64_t> start, end;
      if (chance(0.7)) start = range(-size, size - 1);
      if (chance(0.6)) end = range(-size + 1, size + 1);
      const std::int64_t step = range(1, 3);
      auto clamp = [size](std::int64_t v) {
        if (v < 0) v = v < -size ? 0 : v + size;
        return std::min(v, size);
      };
      const std::int64_t b = clamp(start.value_or(0)), e = clamp(end.value_or(size));
      if (e <= b) return std::nullopt;  // empty
      auto opt = [&](const std::optional<std::int64_t>& v) {
        return v ? ds(*v) : std::string("nullopt");
      };
      return ViewOp{
          "slice", "%.slice(" + ds(d) + ", " + opt(start) + ", " + opt(end) + ", " + ds(step) + ")",
          [d, start, end, step](const Tensor& x) { return xg::slice(x, d, start, end, step); }};
    }
    case 3: {
      if (r == 0) return std::nullopt;
      const std::int64_t d0 = random_dim(r), d1 = random_dim(r);
      return ViewOp{"transpose", "%.transpose(" + ds(d0) + ", " + ds(d1) + ")",
                    [d0, d1](const Tensor& x) { return x.transpose(d0, d1); }};
    }
    case 4:
      if (r >= 2 && (r > 2 || chance(0.5))) {
        return ViewOp{"mT", "%.mT()", [](const Tensor& x) { return x.mT(); }};
      }
      return ViewOp{"t", "%.t()", [](const Tensor& x) { return x.t(); }};
    case 5: {
      if (r < 2) return std::nullopt;
      Shape perm;
      for (std::int64_t k = 0; k < r; ++k) perm.push_back(k);
      std::shuffle(perm.begin(), perm.end(), rng_);
      return ViewOp{"permute", "%.permute(" + str(perm) + ")",
                    [perm](const Tensor& x) { return x.permute(perm); }};
    }
    case 6: {
      if (r >= kMaxRank) return std::nullopt;
      d = range(-(r + 1), r);
      return ViewOp{"unsqueeze", "%.unsqueeze(" + ds(d) + ")",
                    [d](const Tensor& x) { return x.unsqueeze(d); }};
    }
    case 7: {
      std::vector<std::int64_t> ones;
      for (std::int64_t k = 0; k < r; ++k) {
        if (s[static_cast<std::size_t>(k)] == 1) ones.push_back(k);
      }
      if (ones.empty()) return std::nullopt;
      d = one_of(ones);
      return ViewOp{"squeeze", "%.squeeze(" + ds(d) + ")",
                    [d](const Tensor& x) { return x.squeeze(d); }};
    }
    case 8: {
      if (!t.is_contiguous()) return std::nullopt;
      const Shape target = random_shape_with_numel(t.numel());
      return ViewOp{"view", "%.view(" + str(target) + ")",
                    [target](const Tensor& x) { return x.view(target); }};
    }
    case 9: {
      if (r == 0) return std::nullopt;
      some_dim(d, size);
      switch (uniform(4)) {
        case 0: {
          const std::int64_t split_size = range(1, size);
          const std::int64_t pieces = (size + split_size - 1) / split_size;
          const auto k = static_cast<std::size_t>(range(0, pieces - 1));
          return ViewOp{"split", "%.split(" + ds(split_size) + ", " + ds(d) + ")[" + ds(k) + "]",
                        [split_size, d, k](const Tensor& x) { return x.split(split_size, d)[k]; }};
        }
        case 1: {
          Shape sizes;  // a random composition of size, with a zero now and then
          for (std::int64_t left = size; left > 0;) {
            const std::int64_t p = range(1, left);
            sizes.push_back(p);
            left -= p;
            if (chance(0.2)) sizes.push_back(0);
          }
          std::vector<std::size_t> nonempty;
          for (std::size_t k = 0; k < sizes.size(); ++k) {
            if (sizes[k] > 0) nonempty.push_back(k);
          }
          const std::size_t k = one_of(nonempty);
          return ViewOp{"split_with_sizes",
                        "%.split_with_sizes(" + str(sizes) + ", " + ds(d) + ")[" + ds(k) + "]",
                        [sizes, d, k](const Tensor& x) { return x.split_with_sizes(sizes, d)[k]; }};
        }
        case 2: {
          const std::int64_t chunks = range(1, size + 1);
          const std::int64_t each = (size + chunks - 1) / chunks;
          const std::int64_t pieces = (size + each - 1) / each;
          const auto k = static_cast<std::size_t>(range(0, pieces - 1));
          return ViewOp{"chunk", "%.chunk(" + ds(chunks) + ", " + ds(d) + ")[" + ds(k) + "]",
                        [chunks, d, k](const Tensor& x) { return x.chunk(chunks, d)[k]; }};
        }
        default: {
          const auto k = static_cast<std::size_t>(range(0, size - 1));
          return ViewOp{"unbind", "%.unbind(" + ds(d) + ")[" + ds(k) + "]",
                        [d, k](const Tensor& x) { return x.unbind(d)[k]; }};
        }
      }
    }
    default: {
      if (!as_strided_ok || !t.is_contiguous()) return std::nullopt;
      const std::int64_t n = t.numel();
      // sizes of at most n elements, laid out in a permuted row-major order, spaced by gap
      Shape sizes;
      std::int64_t m = 1;
      for (std::size_t k = 0, dims = uniform(4); k < dims; ++k) {
        const std::int64_t z = range(1, 3);
        if (m * z > n) break;
        sizes.push_back(z);
        m *= z;
      }
      std::vector<std::size_t> order(sizes.size());
      for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
      std::shuffle(order.begin(), order.end(), rng_);
      const std::int64_t gap = (2 * (m - 1) + 1 <= n && chance(0.4)) ? 2 : 1;
      Shape strides(sizes.size(), 0);
      std::int64_t run = gap;
      for (std::size_t k = order.size(); k-- > 0;) {
        strides[order[k]] = run;
        run *= sizes[order[k]];
      }
      const std::int64_t extent = gap * (m - 1) + 1;
      const std::int64_t offset = range(0, n - extent);
      const bool own_offset = offset == 0 && chance(0.5);
      return ViewOp{"as_strided",
                    "%.as_strided(" + str(sizes) + ", " + str(strides) + ", " +
                        (own_offset ? std::string("its offset") : "its offset + " + ds(offset)) +
                        ")",
                    [sizes, strides, offset, own_offset](const Tensor& x) {
                      if (own_offset) return x.as_strided(sizes, strides);
                      return x.as_strided(sizes, strides, x.storage_offset() + offset);
                    }};
    }
  }
}

// A view step on entry a: kind as random_view (as_strided reads a contiguous copy when a is
// not contiguous), expand_as another entry (11) or contiguous (12).
bool Builder::add_view_op(std::size_t a, int kind) {
  const std::string x = ref(a);
  if (kind == 11) {
    const Shape sa = shape(a);
    const std::size_t target = pick_where([&](std::size_t i) {
                                 const auto b = broadcast(sa, shape(i));
                                 return b && *b == shape(i) && shape(i) != sa;
                               }).value_or(a);
    return push("expand_as", x + ".expand_as(" + ref(target) + ")", {a},
                [a, target](const Pool& p) { return p[a].expand_as(p[target]); });
  }
  if (kind == 12) {
    return push("contiguous", x + ".contiguous()", {a},
                [a](const Pool& p) { return p[a].contiguous(); });
  }
  const bool dense_first = kind == 10 && !at(a).is_contiguous();
  Tensor probe = at(a);
  if (dense_first) probe = probe.contiguous();
  const std::optional<ViewOp> v = random_view(probe, kind, true);
  if (!v) return false;
  return push(v->op, v->text(dense_first ? x + ".contiguous()" : x), {a},
              [a, f = v->fn, dense_first](const Pool& p) {
                return f(dense_first ? p[a].contiguous() : p[a]);
              });
}

// A step that changes a tensor computed from entry a in place (never a pool entry itself, so
// that no other entry's saved tensors are touched): the tensor is a.clone(), a * c, or a
// buffer of zeros (no grad) into which a view of a is first copied. Then one to three
// changes, each on the tensor itself or on a chain of one or two views of it: add_, sub_ (a
// tensor that broadcasts to the target, a 0-d mean, a scalar, or another view of the same
// tensor), mul_ (the same, or the target itself), div_ (by a positive entry or a scalar),
// copy_, fill_, zero_. The result is the tensor, a view made after the changes, or (cloned)
// a view made before them, which sees them.
bool Builder::add_inplace(std::size_t a) {
  const Tensor av = at(a);
  const std::string x = ref(a);
  const std::size_t base_kind = uniform(3);
  const double factor = one_of(std::vector<double>{1.5, -0.5, 2.0});
  std::function<Tensor(const Pool&)> make_base;
  std::string base_text;
  if (base_kind == 0) {
    make_base = [a](const Pool& p) { return p[a].clone(); };
    base_text = x + ".clone()";
  } else if (base_kind == 1) {
    make_base = [a, factor](const Pool& p) { return p[a] * factor; };
    base_text = "(" + x + " * " + num(factor) + ")";
  } else {
    const Shape s = shape(a);
    make_base = [a, s](const Pool& p) { return xg::zeros(s, p[a].dtype()); };
    base_text = "zeros(" + str(s) + ")";
  }
  Tensor probe;  // the base's values as the step goes (builder values, not recorded)
  {
    xg::NoGradGuard no_grad;
    probe = make_base(pool_);
  }
  // A chain of up to `most` views of the probe, each with at least one element.
  auto random_chain = [&](std::size_t most, bool as_strided_ok) {
    std::vector<ViewOp> chain;
    Tensor t = probe;
    const std::size_t n = uniform(most + 1);
    for (std::size_t k = 0; k < n; ++k) {
      const auto v = random_view(t, -1, as_strided_ok && k == 0);
      if (!v) continue;
      xg::NoGradGuard no_grad;
      const Tensor next = v->fn(t);
      if (next.numel() == 0 || next.dim() > kMaxRank) continue;
      chain.push_back(*v);
      t = next;
    }
    return chain;
  };
  auto view_of_probe = [&](const std::vector<ViewOp>& chain) {
    xg::NoGradGuard no_grad;
    return apply_chain(chain, probe);
  };
  std::vector<std::size_t> reads = {a};
  std::vector<Change> changes;
  std::vector<std::string> texts;

  std::optional<std::vector<ViewOp>> older;
  if (chance(0.3)) older = random_chain(2, true);
  const std::string base_ref = "b";

  if (base_kind == 2) {
    // copy a view of a into the same view of the buffer (of a contiguous a: the chain was
    // drawn for the buffer's layout, and view and as_strided depend on it)
    const std::vector<ViewOp> chain = random_chain(2, true);
    changes.push_back(
        {"copy_",
         chain_text(chain, base_ref) + ".copy_(" + chain_text(chain, x + ".contiguous()") + ")",
         [a, chain](const Pool& p, const Tensor& b) {
           Tensor v = apply_chain(chain, b);
           v.copy_(apply_chain(chain, p[a].contiguous()));
         }});
    xg::NoGradGuard no_grad;
    changes.back().apply(pool_, probe);
  }
  const std::size_t n_changes = 1 + uniform(3);
  for (std::size_t c = 0; c < n_changes; ++c) {
    const std::vector<ViewOp> chain = chance(0.3) ? std::vector<ViewOp>{} : random_chain(2, true);
    const Tensor target = view_of_probe(chain);
    const Shape st = target.shape();
    const std::string tt = chain_text(chain, base_ref);
    const std::size_t op = uniform(8);  // add_, sub_, mul_, div_, copy_, fill_, zero_, mul_ self
    if (op == 5 || op == 6) {
      const double value = one_of(std::vector<double>{0.5, -1.25, 2.0});
      changes.push_back({op == 5 ? "fill_" : "zero_",
                         tt + (op == 5 ? ".fill_(" + num(value) + ")" : ".zero_()"),
                         [chain, op, value](const Pool&, const Tensor& b) {
                           Tensor v = apply_chain(chain, b);
                           if (op == 5) {
                             v.fill_(value);
                           } else {
                             v.zero_();
                           }
                         }});
    } else if (op == 7) {
      changes.push_back({"mul_", tt + ".mul_(itself)", [chain](const Pool&, const Tensor& b) {
                           Tensor v = apply_chain(chain, b);
                           v.mul_(v);
                         }});
    } else {
      // the operand
      const bool divides = op == 3;
      const std::size_t form = uniform(10);  // 0-4 entry, 5-6 mean, 7-8 scalar, 9 sibling view
      std::function<Tensor(const Pool&, const Tensor&)> operand;
      std::optional<double> scalar;
      std::string ot;
      if (form <= 4) {
        const auto b = pick_where([&](std::size_t i) {
          const auto bs = broadcast(st, shape(i));
          return bs && *bs == st;
        });
        if (b) {
          const Prep pr = divides ? positive(*b) : Prep{};
          operand = [bi = *b, pr](const Pool& p, const Tensor&) { return pr.apply(p[bi]); };
          ot = pr.text(ref(*b));
          reads.push_back(*b);
        }
      }
      if (!operand && form <= 6) {
        const std::size_t b = pick();
        const Prep pr = divides ? positive(b) : Prep{};
        operand = [b, pr](const Pool& p, const Tensor&) { return pr.apply(p[b]).mean(); };
        ot = pr.text(ref(b)) + ".mean()";
        reads.push_back(b);
      }
      if (!operand && form == 9 && !divides && op != 2) {
        // another view of the base, of the target's shape (add_, sub_ and copy_ only: mul_
        // and div_ save their operand, which the write itself would change)
        for (int attempt = 0; attempt < 4 && !operand; ++attempt) {
          const std::vector<ViewOp> other = random_chain(2, true);
          if (view_of_probe(other).shape() != st) continue;
          operand = [other](const Pool&, const Tensor& b) { return apply_chain(other, b); };
          ot = chain_text(other, base_ref);
        }
      }
      if (!operand) {
        scalar = divides ? one_of(std::vector<double>{0.5, -0.8, 2.0})
                         : one_of(std::vector<double>{0.5, -1.5, 2.0});
        if (op == 4) {  // copy_ of a number: a 0-d constant
          operand = [v = *scalar](const Pool&, const Tensor&) {
            return xg::scalar_tensor(v, xg::kFloat64);
          };
          ot = "tensor(" + num(*scalar) + ")";
          scalar.reset();
        } else {
          ot = num(*scalar);
        }
      }
      const double alpha = one_of(std::vector<double>{1.0, 1.0, -0.5, 2.0});
      static const char* kNames[] = {"add_", "sub_", "mul_", "div_", "copy_"};
      std::string text = tt + "." + kNames[op] + "(" + ot;
      if ((op == 0 || op == 1) && !scalar && alpha != 1.0) text += ", " + num(alpha);
      text += ")";
      changes.push_back(
          {kNames[op], text, [chain, op, operand, scalar, alpha](const Pool& p, const Tensor& b) {
             Tensor v = apply_chain(chain, b);
             if (scalar) {
               switch (op) {
                 case 0:
                   v.add_(*scalar);
                   break;
                 case 1:
                   v -= *scalar;
                   break;
                 case 2:
                   v *= *scalar;
                   break;
                 default:
                   v.div_(*scalar);
                   break;
               }
               return;
             }
             const Tensor o = operand(p, b);
             switch (op) {
               case 0:
                 v.add_(o, alpha);
                 break;
               case 1:
                 v.sub_(o, alpha);
                 break;
               case 2:
                 v.mul_(o);
                 break;
               case 3:
                 v /= o;
                 break;
               default:
                 v.copy_(o);
                 break;
             }
           }});
    }
    // keep the probe up to date, so that later choices see the changed values' shapes
    {
      xg::NoGradGuard no_grad;
      changes.back().apply(pool_, probe);
    }
    if (!chain.empty()) changes.back().op += " (view)";
  }
  // the result
  const std::size_t result_kind = older ? 2 : uniform(2);
  std::vector<ViewOp> after;
  if (result_kind == 1) after = random_chain(2, true);
  std::string text = "inplace b = " + base_text + "; ";
  if (older) text += "o = " + chain_text(*older, base_ref) + "; ";
  for (const Change& c : changes) text += c.text + "; ";
  text += result_kind == 2 ? "o.clone()" : chain_text(after, base_ref);
  std::sort(reads.begin(), reads.end());
  reads.erase(std::unique(reads.begin(), reads.end()), reads.end());
  std::vector<Change> run = changes;
  const bool ok = push("inplace", text, reads,
                       [make_base, older, run, result_kind, after](const Pool& p) {
                         const Tensor b = make_base(p);
                         const Tensor o = older ? apply_chain(*older, b) : Tensor();
                         for (const Change& c : run) c.apply(p, b);
                         // The view made before the changes is read through clone(): see
                         // InplaceRecording.OlderViewReportsRequiresGradLikePyTorch in
                         // test_inplace.cpp (such a view does not report requires_grad until an
                         // op reads it).
                         if (result_kind == 2) return o.clone();
                         return apply_chain(after, b);
                       },
                       {a});
  if (ok) {
    for (const Change& c : changes) prog_.ops.push_back(c.op);
    if (older) prog_.ops.push_back("inplace (older view)");
  }
  return ok;
}

}  // namespace xg_test::random_graphs
