// Guide, section 6: mini-batches and epochs. Checks that an epoch of xg::nn::BatchSampler
// visits every sample once, then trains the sin-fit cubic on shuffled mini-batches of 100
// points with AdamW and checks the loss over all 2000 points.
#include <iostream>
#include <numbers>
#include <vector>
#include <xgrad/xgrad.hpp>

// The sin-fit cubic of section 2.
struct Cubic : xg::nn::Module {
  Cubic() : Module("Cubic") {
    a = register_parameter("a", xg::randn({}));
    b = register_parameter("b", xg::randn({}));
    c = register_parameter("c", xg::randn({}));
    d = register_parameter("d", xg::randn({}));
  }
  xg::Tensor forward(const xg::Tensor& x) override {
    return a + b * x + c * x.pow(2) + d * x.pow(3);
  }
  xg::Tensor a, b, c, d;
};

int main() {
  xg::manual_seed(0);
  const xg::Tensor x = xg::linspace(-std::numbers::pi, std::numbers::pi, 2000);
  const xg::Tensor y = xg::sin(x);

  // Batches of 100 indices into [0, 2000), reshuffled at every epoch from the sampler's own
  // seed (1), so the batches are the same at every run.
  xg::nn::BatchSampler sampler(x.size(0), /*batch_size=*/100, /*shuffle=*/true, /*seed=*/1);
  std::cout << sampler.batches_per_epoch() << " batches per epoch\n";

  // An epoch is one pass over the data: every index exactly once.
  std::vector<int> seen(2000, 0);
  for (const xg::Tensor& batch : sampler.take(/*epochs=*/1)) {
    for (auto i : batch.to_xarray<std::int64_t>()) seen[static_cast<std::size_t>(i)] += 1;
  }
  bool ok = true;
  for (int n : seen) ok = ok && n == 1;

  Cubic model;
  xg::optim::AdamW optimizer(model.parameters(), xg::optim::AdamWOptions(0.1).weight_decay(0));
  const int epochs = 50;
  // The learning rate falls from 0.1 to 0 along a cosine over the epochs: large steps first,
  // then small ones that average out the noise of the batches.
  xg::optim::CosineAnnealingLR scheduler(optimizer, /*T_max=*/epochs);
  for (int epoch = 1; epoch <= epochs; ++epoch) {
    for (const xg::Tensor& batch : sampler.take(1)) {
      const xg::Tensor x_batch = x.index_select(0, batch);  // the batch's rows
      const xg::Tensor y_batch = y.index_select(0, batch);
      // The mean, not the sum: the loss and its gradient keep their scale whatever the batch
      // size, so the learning rate does not depend on it.
      const xg::Tensor loss = xg::nn::functional::mse_loss(model.forward(x_batch), y_batch);
      optimizer.zero_grad();
      loss.backward();
      optimizer.step();
    }
    scheduler.step();  // once per epoch
    if (epoch % 10 == 0) {
      xg::NoGradGuard no_grad;
      std::cout << "epoch " << epoch << ": lr " << scheduler.get_last_lr()[0]
                << ", mean loss on all points "
                << xg::nn::functional::mse_loss(model.forward(x), y).item() << "\n";
    }
  }

  xg::NoGradGuard no_grad;
  const double summed = (model.forward(x) - y).pow(2).sum().item();
  std::cout << "summed squared error " << summed << " (the best cubic's is 8.8)\n";
  // 1000 steps on batches of 100 end within 2% of the best cubic. With a constant learning
  // rate of 0.1 they would end at about 8.94, bounced around by the noise of the batches.
  if (!(ok && summed < 9)) {
    std::cerr << "FAILED\n";
    return 1;
  }
  return 0;
}
