// The random-graph builder's op table: the steps that apply an op to pool entries, each keeping
// its operands inside the op's domain (see builder.hpp). Unary ops come from the registry's test
// table (tests/unary_cases.hpp), each as a function and as a method.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
#include <xgrad/xgrad.hpp>

#include "../op_info.hpp"
#include "../unary_cases.hpp"
#include "builder.hpp"

namespace xg_test::random_graphs {

bool Builder::add_unary(std::size_t a) {
  struct Op {
    const char* op;
    std::string pattern;
    Unary fn;
    Dom dom;
  };
  static const std::vector<Op> kOps = [] {
    // Every registry op (unary_cases.hpp) as a function and as a method; sign's derivative is
    // 0, so it enters only in products and sums that keep a gradient.
    std::vector<Op> ops;
    for (const auto& u : xg_test::unary_cases()) {
      const Dom dom = u.domain == xg_test::Domain::Positive   ? Dom::Positive
                      : u.domain == xg_test::Domain::GtMinus1 ? Dom::GtMinus1
                      : u.domain == xg_test::Domain::Kink0    ? Dom::Kink0
                      : u.domain == xg_test::Domain::NonZero  ? Dom::NonZero
                                                              : Dom::Any;
      if (std::string_view(u.name) == "sign") continue;
      ops.push_back({u.name, std::string(u.name) + "(%)", u.fn, dom});
      ops.push_back({u.name, "%." + std::string(u.name) + "()",
                     [m = u.method](const Tensor& t) { return (t.*m)(); }, dom});
    }
    ops.insert(
        ops.end(),
        {
            {"neg", "-%", [](const Tensor& t) { return -t; }, Dom::Any},
            {"sign", "sign(%) + %", [](const Tensor& t) { return xg::sign(t) + t; }, Dom::Kink0},
            {"sign", "%.sign() * %", [](const Tensor& t) { return t.sign() * t; }, Dom::Kink0},
            {"clone", "%.clone()", [](const Tensor& t) { return t.clone(); }, Dom::Any},
            {"to", "%.to(Float64).to(dtype)",
             [](const Tensor& t) { return t.to(xg::kFloat64).to(t.dtype()); }, Dom::Any},
            {"pow_scalar", "pow(%, 2)", [](const Tensor& t) { return xg::pow(t, 2); }, Dom::Any},
            {"pow_scalar", "pow(%, 3)", [](const Tensor& t) { return xg::pow(t, 3); }, Dom::Any},
            {"pow_scalar", "%.pow(4)", [](const Tensor& t) { return t.pow(4); }, Dom::Any},
            {"pow_scalar", "pow(%, 0)", [](const Tensor& t) { return xg::pow(t, 0); }, Dom::Any},
            {"pow_scalar", "pow(%, 1.0)", [](const Tensor& t) { return xg::pow(t, 1.0); },
             Dom::Any},
            {"pow_scalar", "pow(%, -1)", [](const Tensor& t) { return xg::pow(t, -1); },
             Dom::NonZero},
            {"pow_scalar", "pow(%, -2)", [](const Tensor& t) { return xg::pow(t, -2); },
             Dom::NonZero},
            {"pow_scalar", "pow(%, 0.5)", [](const Tensor& t) { return xg::pow(t, 0.5); },
             Dom::Positive},
            {"pow_scalar", "%.pow(1.5)", [](const Tensor& t) { return t.pow(1.5); }, Dom::Positive},
            {"pow_scalar", "pow(%, -1.5)", [](const Tensor& t) { return xg::pow(t, -1.5); },
             Dom::Positive},
            {"pow_scalar", "pow(%, 2.5)", [](const Tensor& t) { return xg::pow(t, 2.5); },
             Dom::Positive},
            {"pow_scalar_base", "pow(2.0, %)", [](const Tensor& t) { return xg::pow(2.0, t); },
             Dom::Any},
            {"pow_scalar_base", "pow(0.7, %)", [](const Tensor& t) { return xg::pow(0.7, t); },
             Dom::Any},
            {"dropout", "dropout(%, 0.5, training=false)",
             [](const Tensor& t) { return F::dropout(t, 0.5, false); }, Dom::Any},
            {"dropout", "dropout(%, 0.0)", [](const Tensor& t) { return F::dropout(t, 0.0); },
             Dom::Any},
        });
    return ops;
  }();
  const std::size_t which = uniform(kOps.size() + 6);
  if (which >= kOps.size() + 2) return add_clamp(a);
  if (which >= kOps.size()) {
    // dropout while training, with the generator reseeded in the step so that every run
    // (gradcheck's perturbed ones, Float32, mixed) draws the same mask
    const auto seed = static_cast<std::uint64_t>(range(1, 1 << 30));
    const double p = one_of(std::vector<double>{0.25, 0.5});
    return push("dropout", "dropout(" + ref(a) + ", " + num(p) + ") seed " + std::to_string(seed),
                {a}, [a, seed, p](const Pool& pool) {
                  xg::manual_seed(seed);
                  return F::dropout(pool[a], p, true);
                });
  }
  const Op& op = kOps[which];
  const Prep pr = prep(a, op.dom);
  std::string text = op.pattern;
  const std::string operand = pr.text(ref(a));
  for (auto at = text.find('%'); at != std::string::npos; at = text.find('%', at + 1)) {
    text.replace(at, 1, operand);
    at += operand.size() - 1;
  }
  return push(op.op, text, {a}, [a, pr, f = op.fn](const Pool& p) { return f(pr.apply(p[a])); });
}

bool Builder::add_clamp(std::size_t a) {
  const std::vector<double> v = values_of(at(a));
  const double p1 = safe_point(v, kMargin, false);
  double p2 = safe_point(v, kMargin, false);
  for (int i = 0; i < 4 && p2 == p1; ++i) p2 = safe_point(v, kMargin, false);
  if (p1 == p2) p2 = p1 + 1;
  const double lo = std::min(p1, p2), hi = std::max(p1, p2);
  const std::string x = ref(a);
  switch (uniform(6)) {
    case 0:
      return push("clamp", "clamp(" + x + ", " + num(lo) + ", " + num(hi) + ")", {a},
                  [a, lo, hi](const Pool& p) { return xg::clamp(p[a], lo, hi); });
    case 1:
      return push("clamp", x + ".clamp(" + num(lo) + ", " + num(hi) + ")", {a},
                  [a, lo, hi](const Pool& p) { return p[a].clamp(lo, hi); });
    case 2:
      return push("clamp", "clamp(" + x + ", " + num(lo) + ", nullopt)", {a},
                  [a, lo](const Pool& p) { return xg::clamp(p[a], lo); });
    case 3:
      return push("clamp", "clamp(" + x + ", nullopt, " + num(hi) + ")", {a},
                  [a, hi](const Pool& p) { return xg::clamp(p[a], std::nullopt, hi); });
    case 4:
      return push("clamp_min", "clamp_min(" + x + ", " + num(lo) + ")", {a},
                  [a, lo](const Pool& p) {
                    return chance_bit(lo) ? xg::clamp_min(p[a], lo) : p[a].clamp_min(lo);
                  });
    default:
      return push("clamp_max", "clamp_max(" + x + ", " + num(hi) + ")", {a},
                  [a, hi](const Pool& p) {
                    return chance_bit(hi) ? xg::clamp_max(p[a], hi) : p[a].clamp_max(hi);
                  });
  }
}

bool Builder::add_scalar_arith(std::size_t a) {
  const double s = one_of(std::vector<double>{2.5, -0.75, 0.5, 3.0});
  // 3 goes in as an integral Scalar (the dtype must not change; for /, the result is the
  // tensor's floating dtype, not an integer division)
  const bool integral = s == 3.0;
  const std::string x = ref(a), ss = num(s);
  switch (uniform(8)) {
    case 0:
      return push("scalar_arith", x + " + " + ss, {a},
                  [a, s, integral](const Pool& p) { return integral ? p[a] + 3 : p[a] + s; });
    case 1:
      return push("scalar_arith", x + " - " + ss, {a}, [a, s](const Pool& p) { return p[a] - s; });
    case 2:
      return push("scalar_arith", x + " * " + ss, {a},
                  [a, s, integral](const Pool& p) { return integral ? p[a] * 3 : p[a] * s; });
    case 3:
      return push("scalar_arith", x + " / " + ss, {a},
                  [a, s, integral](const Pool& p) { return integral ? p[a] / 3 : p[a] / s; });
    case 4:
      return push("scalar_arith", ss + " + " + x, {a}, [a, s](const Pool& p) { return s + p[a]; });
    case 5:
      return push("scalar_arith", ss + " - " + x, {a},
                  [a, s, integral](const Pool& p) { return integral ? 3 - p[a] : s - p[a]; });
    case 6:
      return push("scalar_arith", ss + " * " + x, {a}, [a, s](const Pool& p) { return s * p[a]; });
    default: {
      const Prep pr = prep(a, Dom::NonZero);
      return push("scalar_arith", ss + " / " + pr.text(x), {a},
                  [a, s, pr](const Pool& p) { return s / pr.apply(p[a]); });
    }
  }
}

// An entry whose shape broadcasts with a's to at most kMaxNumel elements (a itself at worst).
std::size_t Builder::partner(std::size_t a) {
  const Shape sa = shape(a);
  auto ok = [&](std::size_t i) {
    const auto b = broadcast(sa, shape(i));
    return b && numel_of(*b) <= kMaxNumel && static_cast<std::int64_t>(b->size()) <= kMaxRank;
  };
  if (chance(0.15)) return a;
  return pick_where(ok).value_or(a);
}

bool Builder::add_binary(std::size_t a) {
  const std::size_t b = partner(a);
  const std::string x = ref(a), y = ref(b);
  const std::vector<std::size_t> ab = {a, b};
  switch (uniform(12)) {
    case 0:
      switch (uniform(4)) {
        case 0:
          return push("add", x + " + " + y, ab, [a, b](const Pool& p) { return p[a] + p[b]; });
        case 1:
          return push("add", "add(" + x + ", " + y + ")", ab,
                      [a, b](const Pool& p) { return xg::add(p[a], p[b]); });
        case 2:
          return push("add", x + ".add(" + y + ", 0.5)", ab,
                      [a, b](const Pool& p) { return p[a].add(p[b], 0.5); });
        default:
          return push("add", "add(" + x + ", " + y + ", -2)", ab,
                      [a, b](const Pool& p) { return xg::add(p[a], p[b], -2); });
      }
    case 1:
      switch (uniform(4)) {
        case 0:
          return push("sub", x + " - " + y, ab, [a, b](const Pool& p) { return p[a] - p[b]; });
        case 1:
          return push("sub", "sub(" + x + ", " + y + ")", ab,
                      [a, b](const Pool& p) { return xg::sub(p[a], p[b]); });
        case 2:
          return push("sub", x + ".sub(" + y + ", 3)", ab,
                      [a, b](const Pool& p) { return p[a].sub(p[b], 3); });
        default:
          return push("sub", "sub(" + x + ", " + y + ", 0.25)", ab,
                      [a, b](const Pool& p) { return xg::sub(p[a], p[b], 0.25); });
      }
    case 2:
      switch (uniform(3)) {
        case 0:
          return push("mul", x + " * " + y, ab, [a, b](const Pool& p) { return p[a] * p[b]; });
        case 1:
          return push("mul", "mul(" + x + ", " + y + ")", ab,
                      [a, b](const Pool& p) { return xg::mul(p[a], p[b]); });
        default:
          return push("mul", x + ".mul(" + y + ")", ab,
                      [a, b](const Pool& p) { return p[a].mul(p[b]); });
      }
    case 3: {
      const Prep pb = prep(b, Dom::NonZero);
      const std::string yb = pb.text(y);
      switch (uniform(3)) {
        case 0:
          return push("div", x + " / " + yb, ab,
                      [a, b, pb](const Pool& p) { return p[a] / pb.apply(p[b]); });
        case 1:
          return push("div", "div(" + x + ", " + yb + ")", ab,
                      [a, b, pb](const Pool& p) { return xg::div(p[a], pb.apply(p[b])); });
        default:
          return push("div", x + ".div(" + yb + ")", ab,
                      [a, b, pb](const Pool& p) { return p[a].div(pb.apply(p[b])); });
      }
    }
    case 4: {
      // a positive base to a tensor power; the exponent halved to keep the values moderate
      const Prep pa = positive(a);
      const std::string base = pa.text(x);
      if (chance(0.5)) {
        return push("pow_tensor", "pow(" + base + ", " + y + " * 0.5)", ab,
                    [a, b, pa](const Pool& p) { return xg::pow(pa.apply(p[a]), p[b] * 0.5); });
      }
      return push("pow_tensor", base + ".pow(" + y + " * 0.5)", ab,
                  [a, b, pa](const Pool& p) { return pa.apply(p[a]).pow(p[b] * 0.5); });
    }
    case 5: {
      // any base to a constant tensor of small integer powers
      const Shape s = shape(b);
      std::vector<double> e;
      for (std::int64_t i = 0; i < numel_of(s); ++i) e.push_back(static_cast<double>(range(1, 3)));
      return push("pow_tensor", "pow(" + x + ", const int tensor " + str(s) + ")", {a},
                  [a, e, s](const Pool& p) { return xg::pow(p[a], konst(e, s, p[a])); });
    }
    case 6:
    case 7: {
      const bool is_max = uniform(2) == 0;
      Tensor diff;
      {
        xg::NoGradGuard no_grad;
        diff = at(a) - at(b);
      }
      const double c = safe_point(values_of(diff), kMargin);  // a - (b + c) away from 0
      const std::string yc = c == 0 ? y : "(" + y + " + " + num(c) + ")";
      const bool method = chance(0.5);
      return push(is_max ? "maximum" : "minimum",
                  std::string(is_max ? "maximum(" : "minimum(") + x + ", " + yc + ")", ab,
                  [a, b, c, is_max, method](const Pool& p) {
                    const Tensor other = c == 0 ? p[b] : p[b] + c;
                    if (method) return is_max ? p[a].maximum(other) : p[a].minimum(other);
                    return is_max ? xg::maximum(p[a], other) : xg::minimum(p[a], other);
                  });
    }
    case 8:
      return add_table_binary(a, b);
    default:
      return add_where(a, b);
  }
}

// A differentiable elementwise op of the OpInfo table (op_info.hpp), as a function or a method,
// on operands moved into its inputs' domains. Ops whose derivative jumps where the operands tie
// are left to case 6/7 above, which keeps the operands apart.
bool Builder::add_table_binary(std::size_t a, std::size_t b) {
  static const std::vector<const xg_test::OpInfo*> kRows = [] {
    std::vector<const xg_test::OpInfo*> rows;
    for (const auto& info : xg_test::op_infos()) {
      if (info.elementwise && info.differentiable && !info.ties) rows.push_back(&info);
    }
    return rows;
  }();
  const xg_test::OpInfo& info = *kRows[uniform(kRows.size())];
  auto dom = [](xg_test::Domain d) {
    return d == xg_test::Domain::Positive   ? Dom::Positive
           : d == xg_test::Domain::GtMinus1 ? Dom::GtMinus1
           : d == xg_test::Domain::Kink0    ? Dom::Kink0
           : d == xg_test::Domain::NonZero  ? Dom::NonZero
                                            : Dom::Any;
  };
  const Prep pa = prep(a, dom(info.domains[0])), pb = prep(b, dom(info.domains[1]));
  const bool method = info.method && chance(0.5);
  const std::string x = pa.text(ref(a)), y = pb.text(ref(b));
  const std::string text =
      method ? x + "." + info.id + "(" + y + ")" : info.id + "(" + x + ", " + y + ")";
  return push(info.op, text, {a, b}, [a, b, pa, pb, method, &info](const Pool& p) {
    const std::vector<Tensor> in = {pa.apply(p[a]), pb.apply(p[b])};
    return method ? info.method(in) : info.fn(in);
  });
}

bool Builder::add_where(std::size_t a, std::size_t b) {
  const Shape out = *broadcast(shape(a), shape(b));
  const std::string x = ref(a), y = ref(b);
  // The condition: a comparison of an entry with a threshold kept away from its values, or a
  // constant mask; either broadcasts against a and b.
  auto fits = [&](std::size_t i) {
    const auto s = broadcast(out, shape(i));
    return s && numel_of(*s) <= kMaxNumel && static_cast<std::int64_t>(s->size()) <= kMaxRank;
  };
  const auto c = pick_where(fits);
  if (c && chance(0.7)) {
    const double th = safe_point(values_of(at(*c)), kMargin);
    const std::size_t cmp = uniform(8);
    static const char* kNames[] = {"gt", "ge", "lt", "le", ".gt", ".ge", ".lt", ".le"};
    const std::size_t ci = *c;
    return push("where",
                "where(" + std::string(kNames[cmp]) + "(" + ref(ci) + ", " + num(th) + "), " + x +
                    ", " + y + ")",
                {a, b},  // ci only decides the mask: not a differentiable read
                [a, b, ci, th, cmp](const Pool& p) {
                  const Tensor& t = p[ci];
                  Tensor cond;
                  switch (cmp) {
                    case 0:
                      cond = xg::gt(t, th);
                      break;
                    case 1:
                      cond = xg::ge(t, th);
                      break;
                    case 2:
                      cond = xg::lt(t, th);
                      break;
                    case 3:
                      cond = xg::le(t, th);
                      break;
                    case 4:
                      cond = t.gt(th);
                      break;
                    case 5:
                      cond = t.ge(th);
                      break;
                    case 6:
                      cond = t.lt(th);
                      break;
                    default:
                      cond = t.le(th);
                      break;
                  }
                  return xg::where(cond, p[a], p[b]);
                });
  }
  // a constant mask of the output's shape (or its last dims), in a random dtype, made with
  // eq/ne from integers in {0, 1, 2}
  const std::size_t keep = uniform(out.size() + 1);
  const Shape ms(out.end() - static_cast<std::ptrdiff_t>(keep), out.end());
  std::vector<double> ints;
  for (std::int64_t i = 0; i < numel_of(ms); ++i) ints.push_back(static_cast<double>(range(0, 2)));
  const Dtype md = one_of(std::vector<Dtype>{xg::kFloat32, xg::kFloat64, xg::kInt64});
  const bool use_eq = chance(0.5);
  return push("where",
              std::string("where(") + (use_eq ? "eq" : "ne") + "(const " + str(ms) + ", 1), " + x +
                  ", " + y + ")",
              {a, b}, [a, b, ints, ms, md, use_eq](const Pool& p) {
                const Tensor m = xg::tensor(ints, ms, md);
                const Tensor other = xg::ones(ms, md);
                const Tensor cond = use_eq ? xg::eq(m, other) : m.ne(1);
                return xg::where(cond, p[a], p[b]);
              });
}

bool Builder::add_reduction(std::size_t a) {
  const std::int64_t r = rank(a);
  const Shape dims = random_dims(r);
  const bool keep = chance(0.5);
  const std::string x = ref(a), ds = str(dims), ks = keep ? "true" : "false";
  const bool method = chance(0.4);
  switch (uniform(9)) {
    case 0:
      return push("sum", method ? x + ".sum()" : "sum(" + x + ")", {a},
                  [a, method](const Pool& p) { return method ? p[a].sum() : xg::sum(p[a]); });
    case 1:
      return push("sum", "sum(" + x + ", " + ds + ", " + ks + ")", {a},
                  [a, dims, keep, method](const Pool& p) {
                    return method ? p[a].sum(dims, keep) : xg::sum(p[a], dims, keep);
                  });
    case 2:
      return push("mean", method ? x + ".mean()" : "mean(" + x + ")", {a},
                  [a, method](const Pool& p) { return method ? p[a].mean() : xg::mean(p[a]); });
    case 3:
      return push("mean", "mean(" + x + ", " + ds + ", " + ks + ")", {a},
                  [a, dims, keep, method](const Pool& p) {
                    return method ? p[a].mean(dims, keep) : xg::mean(p[a], dims, keep);
                  });
    case 4:
    case 5:
      return push("logsumexp", "logsumexp(" + x + ", " + ds + ", " + ks + ")", {a},
                  [a, dims, keep, method](const Pool& p) {
                    return method ? p[a].logsumexp(dims, keep) : xg::logsumexp(p[a], dims, keep);
                  });
    case 6:
    case 7: {
      const bool is_max = uniform(2) == 0;
      const auto pr = untied(a, dims, is_max);
      if (!pr) return false;
      const std::string op = is_max ? "amax" : "amin";
      return push(op, op + "(" + pr->text(x) + ", " + ds + ", " + ks + ")", {a},
                  [a, dims, keep, is_max, method, pr = *pr](const Pool& p) {
                    const Tensor t = pr.apply(p[a]);
                    if (method) return is_max ? t.amax(dims, keep) : t.amin(dims, keep);
                    return is_max ? xg::amax(t, dims, keep) : xg::amin(t, dims, keep);
                  });
    }
    default: {
      const bool is_max = uniform(2) == 0;
      const auto pr = untied(a, {}, is_max);
      if (!pr) return false;
      const std::string op = is_max ? "max" : "min";
      return push(op, op + "(" + pr->text(x) + ")", {a},
                  [a, is_max, method, pr = *pr](const Pool& p) {
                    const Tensor t = pr.apply(p[a]);
                    if (method) return is_max ? t.max() : t.min();
                    return is_max ? xg::max(t) : xg::min(t);
                  });
    }
  }
}

bool Builder::add_softmax(std::size_t a) {
  const std::int64_t d = random_dim(rank(a));
  const std::string x = ref(a), ds = std::to_string(d);
  switch (uniform(4)) {
    case 0:
      return push("softmax", "softmax(" + x + ", " + ds + ")", {a},
                  [a, d](const Pool& p) { return xg::softmax(p[a], d); });
    case 1:
      return push("softmax", x + ".softmax(" + ds + ")", {a},
                  [a, d](const Pool& p) { return p[a].softmax(d); });
    case 2:
      return push("log_softmax", "log_softmax(" + x + ", " + ds + ")", {a},
                  [a, d](const Pool& p) { return xg::log_softmax(p[a], d); });
    default:
      return push("log_softmax", x + ".log_softmax(" + ds + ")", {a},
                  [a, d](const Pool& p) { return p[a].log_softmax(d); });
  }
}

bool Builder::add_linalg(std::size_t a) {
  const std::int64_t r = rank(a);
  switch (uniform(6)) {
    case 0:
    case 1:
      return add_matmul(a);
    case 2:
      return add_mm(a);
    case 3: {
      if (r > 2) return false;
      const bool method = chance(0.5);
      return push("t", method ? ref(a) + ".t()" : "t(" + ref(a) + ")", {a},
                  [a, method](const Pool& p) { return method ? p[a].t() : xg::t(p[a]); });
    }
    default:
      return add_linear(a);
  }
}

bool Builder::add_matmul(std::size_t a) {
  if (rank(a) == 0) return false;
  const Shape sa = shape(a);
  const std::int64_t k = sa.back();
  auto fits = [&](std::size_t i) {
    const auto s = matmul_shape(sa, shape(i));
    return s && numel_of(*s) <= kMaxNumel && static_cast<std::int64_t>(s->size()) <= kMaxRank;
  };
  std::optional<std::size_t> b;
  if (chance(0.5)) b = pick_where(fits);
  if (!b) {
    Shape s;
    switch (uniform(3)) {
      case 0:
        s = {k};
        break;
      case 1:
        s = {k, range(1, 3)};
        break;
      default:
        s = {sa.size() >= 3 && chance(0.5) ? sa[sa.size() - 3] : range(1, 2), k, range(1, 3)};
        break;
    }
    if (!matmul_shape(sa, s)) return false;
    b = fresh_leaf(s);
    if (!b) return false;
  }
  const std::size_t bi = *b;
  const bool method = chance(0.3);
  return push(
      "matmul",
      method ? ref(a) + ".matmul(" + ref(bi) + ")" : "matmul(" + ref(a) + ", " + ref(bi) + ")",
      {a, bi},
      [a, bi, method](const Pool& p) {
        return method ? p[a].matmul(p[bi]) : xg::matmul(p[a], p[bi]);
      },
      {}, {a, bi});
}

bool Builder::add_mm(std::size_t a) {
  const std::int64_t r = rank(a);
  if (r == 0) return false;
  // a as a matrix: itself, or its rows flattened
  const bool flat = r != 2;
  const Shape sa = shape(a);
  const std::int64_t k = sa.back();
  const std::string x = flat ? ref(a) + ".reshape([-1, " + std::to_string(k) + "])" : ref(a);
  auto as_matrix = [a, flat, k](const Pool& p) { return flat ? p[a].reshape({-1, k}) : p[a]; };
  const bool method = chance(0.4);
  if (chance(0.3)) {  // a a^T
    return push("mm", "mm(" + x + ", " + x + ".t())", {a}, [as_matrix, method](const Pool& p) {
      const Tensor m = as_matrix(p);
      return method ? m.mm(m.t()) : xg::mm(m, xg::t(m));
    });
  }
  auto fits = [&](std::size_t i) {
    const Shape s = shape(i);
    return s.size() == 2 && s[0] == k && numel_of(sa) / k * s[1] <= kMaxNumel;
  };
  std::optional<std::size_t> b = pick_where(fits);
  if (!b || chance(0.4)) {
    const auto fresh = fresh_leaf({k, range(1, 3)});
    if (fresh) b = fresh;
  }
  if (!b) return false;
  const std::size_t bi = *b;
  return push("mm", "mm(" + x + ", " + ref(bi) + ")", {a, bi},
              [as_matrix, bi, method](const Pool& p) {
                const Tensor m = as_matrix(p);
                return method ? m.mm(p[bi]) : xg::mm(m, p[bi]);
              },
              {}, {a, bi});
}

bool Builder::add_linear(std::size_t a) {
  const std::int64_t r = rank(a);
  if (r == 0) return false;
  const std::int64_t k = shape(a).back();
  auto fits = [&](std::size_t i) {
    const Shape s = shape(i);
    return s.size() == 2 && s[1] == k && numel_of(shape(a)) / k * s[0] <= kMaxNumel;
  };
  std::optional<std::size_t> w;
  if (chance(0.4)) w = pick_where(fits);
  if (!w) w = fresh_leaf({range(1, 3), k});
  if (!w) return false;
  const std::size_t wi = *w;
  const std::int64_t n = shape(wi)[0];
  std::optional<std::size_t> bias;
  const std::size_t bias_kind = uniform(4);
  if (bias_kind == 1) bias = fresh_leaf({n});
  if (bias_kind == 2) bias = fresh_leaf({});
  if (bias_kind == 3) {
    bias = pick_where([&](std::size_t i) { return shape(i) == Shape{n} || shape(i).empty(); });
  }
  const bool functional = chance(0.5);
  std::vector<std::size_t> reads = {a, wi};
  std::string text = std::string(functional ? "F::linear(" : "linear(") + ref(a) + ", " + ref(wi);
  if (bias) {
    reads.push_back(*bias);
    text += ", " + ref(*bias);
  }
  text += ")";
  const std::optional<std::size_t> bi = bias;
  return push("linear", text, reads,
              [a, wi, bi, functional](const Pool& p) {
                const Tensor b = bi ? p[*bi] : Tensor();
                return functional ? F::linear(p[a], p[wi], b) : xg::linear(p[a], p[wi], b);
              },
              {}, {a, wi});
}

bool Builder::add_stack(std::size_t a) {
  const Shape sa = shape(a);
  const std::int64_t r = rank(a);
  const std::int64_t d = range(-(r + 1), r);
  std::vector<std::size_t> parts = {a};
  const std::size_t more = 1 + uniform(2);
  for (std::size_t i = 0; i < more; ++i) {
    parts.push_back(pick_where([&](std::size_t k) { return shape(k) == sa; }).value_or(a));
  }
  std::shuffle(parts.begin(), parts.end(), rng_);
  std::string text = "stack({";
  for (std::size_t i = 0; i < parts.size(); ++i) text += (i ? ", " : "") + ref(parts[i]);
  text += "}, " + std::to_string(d) + ")";
  return push("stack", text, parts, [parts, d](const Pool& p) {
    std::vector<Tensor> ts;
    for (auto i : parts) ts.push_back(p[i]);
    return xg::stack(ts, d);
  });
}

bool Builder::add_index_select(std::size_t a) {
  const Shape sa = shape(a);
  const std::int64_t r = rank(a);
  const std::int64_t d = random_dim(r);
  const std::int64_t size = r == 0 ? 1 : sa[static_cast<std::size_t>(d < 0 ? d + r : d)];
  const bool method = chance(0.4);
  const std::string x = ref(a);
  if (chance(0.35)) {
    // the index: argmax or argmin of an entry of rank 1 or 2 along a dim, with a clear winner
    auto fits = [&](std::size_t i) {
      const Shape s = shape(i);
      if (s.empty() || s.size() > 2) return false;
      return s.back() <= size;
    };
    const auto c = pick_where(fits);
    if (c && (r > 0 || shape(*c).size() == 1)) {  // a 0-d tensor takes one index
      const std::size_t ci = *c;
      const std::int64_t cd = -1;  // its last dim, whose size fits
      const bool is_max = chance(0.5);
      if (extreme_gap(at(ci), {cd}, is_max) >= kMargin) {
        const std::string op = is_max ? "argmax" : "argmin";
        return push(
            op,
            "index_select(" + x + ", " + std::to_string(d) + ", " + op + "(" + ref(ci) + ", -1))",
            {a},  // ci only gives the index: not a differentiable read
            [a, ci, d, is_max, method](const Pool& p) {
              const Tensor idx = is_max ? xg::argmax(p[ci], -1) : p[ci].argmin(-1);
              return method ? p[a].index_select(d, idx) : xg::index_select(p[a], d, idx);
            });
      }
    }
  }
  const bool zero_d = chance(0.15);
  std::vector<double> idx;
  const std::size_t n = zero_d || r == 0 ? 1 : 1 + uniform(4);  // a 0-d tensor takes one
  for (std::size_t i = 0; i < n; ++i) idx.push_back(static_cast<double>(range(0, size - 1)));
  const Shape is = zero_d ? Shape{} : Shape{static_cast<std::int64_t>(n)};
  std::string text = "index_select(" + x + ", " + std::to_string(d) + ", [";
  for (std::size_t i = 0; i < n; ++i) text += (i ? ", " : "") + num(idx[i]);
  text += zero_d ? "] 0-d)" : "])";
  return push("index_select", text, {a}, [a, d, idx, is, method](const Pool& p) {
    const Tensor index = xg::tensor(idx, is, xg::kInt64);
    return method ? p[a].index_select(d, index) : xg::index_select(p[a], d, index);
  });
}

bool Builder::add_loss(std::size_t a) {
  const Shape sa = shape(a);
  const std::int64_t r = rank(a);
  const auto red = one_of(std::vector<xg::nn::Reduction>{
      xg::nn::Reduction::None, xg::nn::Reduction::Mean, xg::nn::Reduction::Sum});
  const std::string rs = red == xg::nn::Reduction::None   ? "None"
                         : red == xg::nn::Reduction::Mean ? "Mean"
                                                          : "Sum";
  const std::string x = ref(a);
  const std::size_t kind = uniform(5);
  if (kind <= 2) {
    // a target of the same shape: another entry, or a fresh leaf
    std::optional<std::size_t> t;
    if (chance(0.6)) t = pick_where([&](std::size_t i) { return i != a && shape(i) == sa; });
    if (!t) t = fresh_leaf(sa);
    if (!t) return false;
    const std::size_t ti = *t;
    if (kind == 0) {
      return push("mse_loss", "mse_loss(" + x + ", " + ref(ti) + ", " + rs + ")", {a, ti},
                  [a, ti, red](const Pool& p) { return F::mse_loss(p[a], p[ti], red); });
    }
    if (kind == 1) {
      Tensor diff;
      {
        xg::NoGradGuard no_grad;
        diff = at(a) - at(ti);
      }
      const double c = safe_point(values_of(diff), kMargin);
      const std::string t = ref(ti);  // a named string: "(" + ref(ti) trips GCC 12's -Wrestrict
      const std::string tt = c == 0 ? t : "(" + t + " + " + num(c) + ")";
      return push("l1_loss", "l1_loss(" + x + ", " + tt + ", " + rs + ")", {a, ti},
                  [a, ti, red, c](const Pool& p) {
                    return F::l1_loss(p[a], c == 0 ? p[ti] : p[ti] + c, red);
                  });
    }
    return push("binary_cross_entropy_with_logits",
                "binary_cross_entropy_with_logits(" + x + ", " + ref(ti) + ", " + rs + ")", {a, ti},
                [a, ti, red](const Pool& p) {
                  return F::binary_cross_entropy_with_logits(p[a], p[ti], red);
                });
  }
  // class scores: [C], [N, C] or [N, C, d]
  if (r == 0) return false;
  const std::int64_t class_dim = r == 1 ? 0 : 1;
  const std::int64_t classes = sa[static_cast<std::size_t>(class_dim)];
  Shape ts = sa;
  ts.erase(ts.begin() + class_dim);
  std::vector<double> targets;
  for (std::int64_t i = 0; i < numel_of(ts); ++i) {
    targets.push_back(static_cast<double>(range(0, classes - 1)));
  }
  std::int64_t ignore = -100;
  if (chance(0.3)) {
    ignore = chance(0.5) ? -100 : range(0, classes - 1);
    for (auto& t : targets) {
      if (chance(0.3)) t = static_cast<double>(ignore);
    }
    // at least one target counts (else Mean divides by 0, as in PyTorch)
    if (std::all_of(targets.begin(), targets.end(),
                    [&](double t) { return t == static_cast<double>(ignore); })) {
      if (ignore == -100) {
        targets[0] = static_cast<double>(range(0, classes - 1));
      } else {
        ignore = -100;  // the targets, all one class, count again
      }
    }
  }
  const std::string ignore_text = ignore == -100 ? "" : ", ignore " + std::to_string(ignore);
  if (kind == 3) {
    const bool log_softmax_first = chance(0.5);
    return push(
        "nll_loss",
        "nll_loss(" +
            (log_softmax_first ? "log_softmax(" + x + ", " + std::to_string(class_dim) + ")" : x) +
            ", targets " + str(ts) + ", " + rs + ignore_text + ")",
        {a}, [a, targets, ts, red, ignore, log_softmax_first, class_dim](const Pool& p) {
          const Tensor in = log_softmax_first ? xg::log_softmax(p[a], class_dim) : p[a];
          return F::nll_loss(in, xg::tensor(targets, ts, xg::kInt64), red, ignore);
        });
  }
  const double smoothing = one_of(std::vector<double>{0.0, 0.0, 0.1, 0.3});
  return push("cross_entropy",
              "cross_entropy(" + x + ", targets " + str(ts) + ", " + rs + ignore_text +
                  ", smoothing " + num(smoothing) + ")",
              {a}, [a, targets, ts, red, ignore, smoothing](const Pool& p) {
                return F::cross_entropy(p[a], xg::tensor(targets, ts, xg::kInt64), red, ignore,
                                        smoothing);
              });
}

}  // namespace xg_test::random_graphs
