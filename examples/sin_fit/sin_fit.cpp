// Fits y = sin(x) on [-pi, pi] with a cubic by full-batch gradient descent on the summed
// squared error: the seed program of xgrad, in every mode of PyTorch's "Learning PyTorch with
// Examples" (see sin_fit.hpp).
#include "sin_fit.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <functional>
#include <iomanip>
#include <memory>
#include <numbers>
#include <ostream>
#include <sstream>
#include <stdexcept>

#include "checkpoint_checks.hpp"

namespace sin_fit {
namespace {

using xg::Tensor;

struct Data {
  Tensor x, y;
};

Data make_data(xg::Dtype dtype) {
  const Tensor x = xg::linspace(-std::numbers::pi, std::numbers::pi, 2000, dtype);
  return {x, xg::sin(x)};
}

// ---- the models -----------------------------------------------------------------------------

// y = a + b x + c x^2 + d x^3, the weights drawn from a standard normal.
struct Polynomial3 : xg::nn::Module {
  Polynomial3(xg::Dtype dtype, bool trainable) : Module("Polynomial3") {
    a = register_parameter("a", xg::randn({}, dtype), trainable);
    b = register_parameter("b", xg::randn({}, dtype), trainable);
    c = register_parameter("c", xg::randn({}, dtype), trainable);
    d = register_parameter("d", xg::randn({}, dtype), trainable);
  }
  Tensor forward(const Tensor& x) override {
    return a + b * x + c * xg::pow(x, 2) + d * xg::pow(x, 3);
  }
  Tensor a, b, c, d;
};

// P3(x) = (5 x^3 - 3 x) / 2, the Legendre polynomial, with its derivative written by hand.
struct LegendrePolynomial3 : xg::autograd::Function<LegendrePolynomial3> {
  static Tensor forward(xg::autograd::AutogradContext* ctx, const Tensor& input) {
    ctx->save_for_backward({input});
    return 0.5 * (5 * xg::pow(input, 3) - 3 * input);
  }
  static std::vector<Tensor> backward(xg::autograd::AutogradContext* ctx,
                                      std::vector<Tensor> grad_output) {
    const Tensor input = ctx->get_saved_variables()[0];
    return {grad_output[0] * 1.5 * (5 * xg::pow(input, 2) - 1)};
  }
};

// y = a + b P3(c + d x), starting from the tutorial's a = 0, b = -1, c = 0, d = 0.3.
struct LegendreModel : xg::nn::Module {
  explicit LegendreModel(xg::Dtype dtype) : Module("LegendreModel") {
    a = register_parameter("a", xg::full({}, 0.0, dtype));
    b = register_parameter("b", xg::full({}, -1.0, dtype));
    c = register_parameter("c", xg::full({}, 0.0, dtype));
    d = register_parameter("d", xg::full({}, 0.3, dtype));
  }
  Tensor forward(const Tensor& x) override { return a + b * LegendrePolynomial3::apply(c + d * x); }
  Tensor a, b, c, d;
};

// Linear(3, 1) on the features (x, x^2, x^3), flattened to one prediction per point.
struct LinearModel : xg::nn::Module {
  explicit LinearModel(xg::Dtype dtype) : Module("LinearModel") {
    linear = register_module("linear", std::make_shared<xg::nn::Linear>(3, 1));
    to(dtype);
  }
  Tensor forward(const Tensor& x) override {
    const Tensor features = xg::stack({x, xg::pow(x, 2), xg::pow(x, 3)}, 1);
    return linear->forward(features).flatten(0, 1);
  }
  std::shared_ptr<xg::nn::Linear> linear;
};

// The tutorial's DynamicNet: a cubic, plus e x^4, or e x^4 + e x^5, chosen anew at each
// forward; the choice depends only on (seed, step), so a resumed run makes the same choices.
struct DynamicNet : xg::nn::Module {
  DynamicNet(xg::Dtype dtype, std::uint64_t seed) : Module("DynamicNet"), seed_(seed) {
    a = register_parameter("a", xg::randn({}, dtype));
    b = register_parameter("b", xg::randn({}, dtype));
    c = register_parameter("c", xg::randn({}, dtype));
    d = register_parameter("d", xg::randn({}, dtype));
    e = register_parameter("e", xg::randn({}, dtype));
  }
  Tensor forward(const Tensor& x) override {
    Tensor y = a + b * x + c * xg::pow(x, 2) + d * xg::pow(x, 3);
    const int extra = static_cast<int>(mix(seed_ ^ mix(static_cast<std::uint64_t>(step))) % 3);
    for (int exp = 4; exp < 4 + extra; ++exp) y = y + e * xg::pow(x, exp);
    return y;
  }
  Tensor a, b, c, d, e;
  std::int64_t step = 0;

 private:
  // splitmix64's finalizer: neighbouring steps get unrelated choices.
  static std::uint64_t mix(std::uint64_t z) {
    z += 0x9e3779b97f4a7c15u;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
  }
  std::uint64_t seed_;
};

// ---- hand-derived gradients (manual mode, and --check) ----------------------------------------

struct HandGradients {
  Tensor loss, a, b, c, d;
  double scale[4];  // sum |2 (y_pred - y) x^k|, k = 0..3: the size of each sum's rounding error
};

HandGradients hand_gradients(const Data& data, Polynomial3& p) {
  xg::NoGradGuard no_grad;
  const Tensor y_pred = p.forward(data.x);
  const Tensor grad_y_pred = 2.0 * (y_pred - data.y);
  const Tensor x2 = xg::pow(data.x, 2), x3 = xg::pow(data.x, 3);
  HandGradients g{xg::pow(y_pred - data.y, 2).sum(), grad_y_pred.sum(),
                  (grad_y_pred * data.x).sum(),      (grad_y_pred * x2).sum(),
                  (grad_y_pred * x3).sum(),          {}};
  const Tensor powers[4] = {xg::ones_like(data.x), data.x, x2, x3};
  for (int k = 0; k < 4; ++k) g.scale[k] = xg::abs(grad_y_pred * powers[k]).sum().item();
  return g;
}

// What --check saw: the steps checked and, per coefficient, the largest absolute difference
// between autograd's gradient and the hand-derived one, and the largest relative to the sum of
// the absolute terms (the measure the tolerance bounds).
struct CheckReport {
  int steps = 0;
  double rtol = 0;
  double max_abs[4] = {};
  double max_rel[4] = {};
};

constexpr const char* kCoefficients[4] = {"a", "b", "c", "d"};

// The tolerance of --check: a relative error of rtol on the sum of the absolute terms, which
// bounds the rounding error of summing them in the dtype.
double check_rtol(xg::Dtype dtype) { return dtype == xg::kFloat64 ? 1e-12 : 1e-5; }

// Records the differences in report; throws when one is larger than summation rounding explains.
void check_gradients(int step, const Polynomial3& p, const HandGradients& hand,
                     CheckReport& report) {
  const Tensor* by_autograd[4] = {&p.a, &p.b, &p.c, &p.d};
  const Tensor* by_hand[4] = {&hand.a, &hand.b, &hand.c, &hand.d};
  for (int k = 0; k < 4; ++k) {
    const double got = by_autograd[k]->grad().item();
    const double want = by_hand[k]->item();
    const double diff = std::abs(got - want);
    if (!(diff <= report.rtol * hand.scale[k])) {
      throw std::runtime_error("--check: at step " + std::to_string(step) + " the gradient of " +
                               kCoefficients[k] + " is " + std::to_string(got) +
                               " by autograd but " + std::to_string(want) + " by hand");
    }
    report.max_abs[k] = std::max(report.max_abs[k], diff);
    if (hand.scale[k] > 0) report.max_rel[k] = std::max(report.max_rel[k], diff / hand.scale[k]);
  }
  ++report.steps;
}

// The line --check ends with.
std::string describe(const CheckReport& r, xg::Dtype dtype) {
  std::ostringstream s;
  s << std::setprecision(2) << "--check: " << r.steps
    << " steps, autograd against the hand-derived gradients, largest |difference| (relative to "
       "the sum of |terms|):";
  for (int k = 0; k < 4; ++k) {
    s << (k ? ", " : " ") << kCoefficients[k] << ' ' << r.max_abs[k] << " (" << r.max_rel[k] << ')';
  }
  s << "; tolerance " << r.rtol << " relative (" << xg::dtype_name(dtype) << ")";
  return s.str();
}

// ---- one mode = a model, maybe an optimizer, and a training step ------------------------------

struct Mode {
  std::shared_ptr<xg::nn::Module> model;
  std::unique_ptr<xg::optim::Optimizer> optimizer;    // null when the update is written out
  std::unique_ptr<xg::optim::LRScheduler> scheduler;  // null when the lr is constant
  std::function<double(int)> step;                    // one update; returns the loss before it
  std::function<Outcome()> coefficients;
  std::function<std::string(const Outcome&)> describe;  // the Result line
  int print_every = 100;
  std::shared_ptr<CheckReport> check;  // with --check
};

// dynamic's learning rate is 1e-8, so it takes longer; every other mode runs 2000 steps.
int default_steps(const std::string& mode) { return mode == "dynamic" ? 30000 : 2000; }

std::string polynomial(const Outcome& o) {
  std::ostringstream s;
  s << "Result: y = " << o.a << " + " << o.b << " x + " << o.c << " x^2 + " << o.d << " x^3";
  return s.str();
}

double sum_squared_error(const Tensor& y_pred, const Data& data) {
  return xg::pow(y_pred - data.y, 2).sum().item();
}

// Backward of a summed squared error, then p -= lr * grad for every parameter, under no-grad.
double backward_and_update(xg::nn::Module& model, const Tensor& loss, double lr) {
  model.zero_grad();
  loss.backward();
  xg::NoGradGuard no_grad;
  for (auto& p : model.parameters()) p -= lr * p.grad();
  return loss.item();
}

// adamw's cosine schedule falls from the peak lr to a tenth of it over this many steps, then
// holds there. A fixed horizon (not --steps) keeps a resumed run on the schedule it started.
constexpr int kScheduleSteps = 2000;

Mode make_mode(const Options& opts, const Data& data) {
  xg::manual_seed(opts.seed);
  Mode m;
  const std::string& name = opts.mode;
  if (name == "manual" || name == "autograd" || name == "sgd" || name == "adamw" ||
      name == "module") {
    auto poly = std::make_shared<Polynomial3>(opts.dtype, name != "manual");
    m.model = poly;
    m.coefficients = [poly] {
      return Outcome{poly->a.item(), poly->b.item(), poly->c.item(), poly->d.item()};
    };
    m.describe = polynomial;
    if (name == "manual") {
      m.step = [poly, &data](int) {
        const HandGradients g = hand_gradients(data, *poly);
        poly->a -= 1e-6 * g.a;
        poly->b -= 1e-6 * g.b;
        poly->c -= 1e-6 * g.c;
        poly->d -= 1e-6 * g.d;
        return g.loss.item();
      };
      return m;
    }
    if (name == "sgd" || name == "module") {
      m.optimizer =
          std::make_unique<xg::optim::SGD>(poly->parameters(), xg::optim::SGDOptions(1e-6));
    } else if (name == "adamw") {
      // AdamW as Llama 2 was trained (Touvron et al. 2023, section 2.2): betas (0.9, 0.95),
      // eps 1e-5, weight decay 0.1, and a cosine schedule from the peak lr down to 10% of it.
      // PyTorch's default betas (0.9, 0.999) at lr 1e-2 reach the optimum from some random
      // starts only (4 of 20 seeds in PyTorch 1.13 end below 8.9); these settings reach it
      // from every start tried (docs/guide.md, section 4).
      m.optimizer = std::make_unique<xg::optim::AdamW>(
          poly->parameters(),
          xg::optim::AdamWOptions(1e-2).betas({0.9, 0.95}).eps(1e-5).weight_decay(0.1));
      m.scheduler =
          std::make_unique<xg::optim::CosineAnnealingLR>(*m.optimizer, kScheduleSteps, 1e-3);
    }
    xg::optim::Optimizer* optimizer = m.optimizer.get();
    xg::optim::LRScheduler* scheduler = m.scheduler.get();
    if (opts.check) {
      m.check = std::make_shared<CheckReport>();
      m.check->rtol = check_rtol(opts.dtype);
    }
    std::shared_ptr<CheckReport> check = m.check;
    m.step = [poly, optimizer, scheduler, check, &data](int t) {
      const Tensor loss = xg::pow(poly->forward(data.x) - data.y, 2).sum();
      if (optimizer) {
        optimizer->zero_grad();
      } else {
        poly->zero_grad();
      }
      loss.backward();
      if (check) check_gradients(t, *poly, hand_gradients(data, *poly), *check);
      if (optimizer) {
        optimizer->step();
        if (scheduler && t < kScheduleSteps) scheduler->step();
      } else {
        xg::NoGradGuard no_grad;
        for (auto& p : poly->parameters()) p -= 1e-6 * p.grad();
      }
      return loss.item();
    };
    return m;
  }
  if (name == "function") {
    auto model = std::make_shared<LegendreModel>(opts.dtype);
    m.model = model;
    m.step = [model, &data](int) {
      return backward_and_update(*model, xg::pow(model->forward(data.x) - data.y, 2).sum(), 5e-6);
    };
    m.coefficients = [model] {
      return Outcome{model->a.item(), model->b.item(), model->c.item(), model->d.item()};
    };
    m.describe = [](const Outcome& o) {
      std::ostringstream s;
      s << "Result: y = " << o.a << " + " << o.b << " * P3(" << o.c << " + " << o.d << " x)";
      return s.str();
    };
    return m;
  }
  if (name == "nn") {
    auto model = std::make_shared<LinearModel>(opts.dtype);
    m.model = model;
    m.step = [model, &data](int) {
      const Tensor loss =
          xg::nn::functional::mse_loss(model->forward(data.x), data.y, xg::nn::Reduction::Sum);
      return backward_and_update(*model, loss, 1e-6);
    };
    m.coefficients = [model] {
      const Tensor w = model->linear->weight.detach().reshape({3});
      return Outcome{model->linear->bias.item(), w.narrow(0, 0, 1).item(), w.narrow(0, 1, 1).item(),
                     w.narrow(0, 2, 1).item()};
    };
    m.describe = polynomial;
    return m;
  }
  if (name == "dynamic") {
    auto model = std::make_shared<DynamicNet>(opts.dtype, opts.seed);
    m.model = model;
    m.optimizer = std::make_unique<xg::optim::SGD>(model->parameters(),
                                                   xg::optim::SGDOptions(1e-8).momentum(0.9));
    xg::optim::Optimizer* optimizer = m.optimizer.get();
    m.step = [model, optimizer, &data](int t) {
      model->step = t;
      const Tensor loss = xg::pow(model->forward(data.x) - data.y, 2).sum();
      optimizer->zero_grad();
      loss.backward();
      optimizer->step();
      return loss.item();
    };
    m.coefficients = [model] {
      return Outcome{model->a.item(), model->b.item(), model->c.item(), model->d.item()};
    };
    m.describe = [model](const Outcome& o) {
      std::ostringstream s;
      const double e = model->e.item();
      s << polynomial(o) << " + " << e << " x^4 ? + " << e << " x^5 ?";
      return s.str();
    };
    m.print_every = 2000;
    return m;
  }
  throw std::invalid_argument("sin_fit: unknown mode '" + name + "'");
}

// ---- the least-squares optimum ----------------------------------------------------------------

// The loss of the best cubic: the least-squares solution of the 4x4 normal equations
// (X^T X) w = X^T y with X = [1, x, x^2, x^3], solved in double by Gaussian elimination.
double least_squares_loss(const Data& data) {
  const Tensor x = data.x.to(xg::kFloat64), y = data.y.to(xg::kFloat64);
  const Tensor features[4] = {xg::ones_like(x), x, x * x, x * x * x};
  std::array<std::array<double, 5>, 4> m{};  // [X^T X | X^T y]
  for (int i = 0; i < 4; ++i) {
    for (int j = 0; j < 4; ++j) m[i][j] = (features[i] * features[j]).sum().item();
    m[i][4] = (features[i] * y).sum().item();
  }
  for (int col = 0; col < 4; ++col) {
    int pivot = col;
    for (int r = col + 1; r < 4; ++r) {
      if (std::abs(m[r][col]) > std::abs(m[pivot][col])) pivot = r;
    }
    std::swap(m[col], m[pivot]);
    for (int r = 0; r < 4; ++r) {
      if (r == col) continue;
      const double f = m[r][col] / m[col][col];
      for (int k = col; k < 5; ++k) m[r][k] -= f * m[col][k];
    }
  }
  Tensor fit = xg::zeros_like(x);
  for (int i = 0; i < 4; ++i) fit = fit + features[i] * (m[i][4] / m[i][i]);
  return sum_squared_error(fit, {x, y});
}

// ---- checkpoints ----------------------------------------------------------------------------

void save_checkpoint(const Mode& m, const Options& opts, int next_step) {
  const xg::Metadata meta{{"mode", opts.mode}, {"step", std::to_string(next_step)}};
  if (m.optimizer) {
    xg::save(*m.model, *m.optimizer, opts.save, meta);
  } else {
    xg::save(*m.model, opts.save, meta);
  }
}

// Loads the checkpoint and returns the step to continue from. Its dtype and metadata are
// checked first: loading would convert another dtype, and refuse another mode's model for its
// names without saying why.
int load_checkpoint(Mode& m, const Options& opts) {
  const xg::Metadata meta = examples::check_checkpoint(opts.resume, *m.model);
  const std::string& mode = examples::required_metadata(meta, "mode", opts.resume);
  if (mode != opts.mode) {
    throw std::runtime_error("--resume: " + opts.resume + " was saved by mode '" + mode +
                             "', not '" + opts.mode + "'");
  }
  const int step = examples::checkpoint_step<int>(
      examples::required_metadata(meta, "step", opts.resume), "step", opts.resume);
  if (m.optimizer) {
    xg::load(*m.model, *m.optimizer, opts.resume);
  } else {
    xg::load(*m.model, opts.resume);
  }
  // A scheduler is a closed form of its step count: replaying the count restores it.
  if (m.scheduler) {
    for (int t = 0; t < std::min(step, kScheduleSteps); ++t) m.scheduler->step();
  }
  return step;
}

}  // namespace

Outcome run(const Options& opts, std::ostream& out) {
  // --check compares autograd's gradients of the cubic's weights with the hand-derived ones:
  // manual has no autograd gradients, function, nn and dynamic fit other models, and module is
  // sgd's training again (checked as sgd).
  if (opts.check && opts.mode != "autograd" && opts.mode != "sgd" && opts.mode != "adamw") {
    throw std::invalid_argument("--check applies to --mode autograd, sgd and adamw, not to " +
                                opts.mode);
  }
  const Data data = make_data(opts.dtype);
  Mode m = make_mode(opts, data);
  const int steps = opts.steps >= 0 ? opts.steps : default_steps(opts.mode);
  const int first = opts.resume.empty() ? 0 : load_checkpoint(m, opts);
  std::vector<double> losses;
  for (int t = first; t < steps; ++t) {
    const double loss = m.step(t);
    losses.push_back(loss);
    if (t % m.print_every == m.print_every - 1) out << t << ' ' << loss << '\n';
  }
  if (!opts.save.empty()) save_checkpoint(m, opts, std::max(first, steps));

  Outcome o = m.coefficients();
  Tensor fit;
  {
    xg::NoGradGuard no_grad;
    fit = m.model->forward(data.x);
  }
  o.final_loss = sum_squared_error(fit, data);
  o.optimum_loss = least_squares_loss(data);
  out << "Final loss " << o.final_loss << " (least-squares optimum " << o.optimum_loss << ")\n";
  out << m.describe(o) << '\n';
  if (!opts.plot.empty()) write_plot(opts.plot, data.x, data.y, fit, losses, first);
  if (m.check) {
    o.check_steps = m.check->steps;
    for (int k = 0; k < 4; ++k) {
      o.check_max_abs[k] = m.check->max_abs[k];
      o.check_max_rel[k] = m.check->max_rel[k];
    }
    o.check_rtol = m.check->rtol;
    out << describe(*m.check, opts.dtype) << '\n';
  }
  return o;
}

}  // namespace sin_fit
