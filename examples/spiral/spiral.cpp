// Classifies CS231n's three interleaved spirals with a one-hidden-layer MLP: the smallest
// problem a linear model cannot solve (it stays near 50%) and a ReLU layer of 100 units can.
#include "spiral.hpp"

#include <chrono>
#include <memory>
#include <ostream>
#include <vector>

namespace spiral {

namespace {
constexpr std::int64_t kPointsPerClass = 300;
constexpr std::int64_t kClasses = 3;
constexpr double kNoise = 0.2;
}  // namespace

Data make_spiral(std::int64_t points_per_class, std::int64_t classes) {
  std::vector<xg::Tensor> points, labels;
  for (std::int64_t k = 0; k < classes; ++k) {
    const xg::Tensor r = xg::linspace(0.0, 1.0, points_per_class);
    const xg::Tensor t = xg::linspace(4.0 * static_cast<double>(k),
                                      4.0 * static_cast<double>(k + 1), points_per_class) +
                         xg::randn({points_per_class}) * kNoise;
    points.push_back(xg::stack({r * xg::sin(t), r * xg::cos(t)}, 1));
    labels.push_back(xg::full({points_per_class}, k, xg::kInt64));
  }
  return {xg::cat(points), xg::cat(labels)};
}

Result run(const Options& opts, std::ostream& out) {
  xg::manual_seed(opts.seed);
  const Data data = make_spiral(kPointsPerClass, kClasses);

  xg::nn::Sequential model{std::make_shared<xg::nn::Linear>(2, opts.hidden),
                           std::make_shared<xg::nn::ReLU>(),
                           std::make_shared<xg::nn::Linear>(opts.hidden, kClasses)};
  xg::optim::AdamW optimizer(model.parameters(), xg::optim::AdamWOptions(opts.lr));

  const auto start = std::chrono::steady_clock::now();
  double loss_value = 0;
  for (int step = 1; step <= opts.steps; ++step) {
    const xg::Tensor loss = xg::nn::functional::cross_entropy(model.forward(data.x), data.y);
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    loss_value = loss.item();
    if (step % 100 == 0 || step == opts.steps) {
      out << "step " << step << " loss " << loss_value << '\n';
    }
  }
  const std::chrono::duration<double> elapsed = std::chrono::steady_clock::now() - start;

  xg::NoGradGuard no_grad;
  model.eval();
  const xg::Tensor predicted = model.forward(data.x).argmax(1);
  const double accuracy = predicted.eq(data.y).to(xg::kFloat32).mean().item();
  out << "trained " << opts.steps << " steps in " << elapsed.count() << " s\n";
  out << "accuracy " << accuracy << '\n';
  return {loss_value, accuracy};
}

}  // namespace spiral
