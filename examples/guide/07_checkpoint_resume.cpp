// Guide, section 7: checkpoints and resuming. Trains 200 steps in one go, and again as 100
// steps, a checkpoint (model, optimizer, step), a fresh process state and 100 more steps; the
// two runs must end with bit-identical parameters.
#include <cstdint>
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <numbers>
#include <string>
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

// Trains the cubic on mini-batches up to step `last`: from step 0, or from the checkpoint
// `resume_from` when one is given. Saves a checkpoint at the end when `save_to` is given.
std::shared_ptr<Cubic> train(std::int64_t last, const std::string& save_to,
                             const std::string& resume_from) {
  const xg::Tensor x = xg::linspace(-std::numbers::pi, std::numbers::pi, 2000);
  const xg::Tensor y = xg::sin(x);
  xg::manual_seed(resume_from.empty() ? 0 : 12345);  // a resumed run starts elsewhere...
  auto model = std::make_shared<Cubic>();
  xg::optim::AdamW optimizer(model->parameters(), xg::optim::AdamWOptions(1e-2));

  std::int64_t first = 0;
  if (!resume_from.empty()) {
    // ...and the checkpoint puts back the parameters, AdamW's moments and step counts, and
    // the step we stopped at (the caller's metadata, strings).
    xg::Metadata metadata;
    xg::load(*model, optimizer, resume_from, &metadata);
    first = std::stoll(metadata.at("step"));
  }
  // The sampler is not in the checkpoint: it is rebuilt from its seed and replayed to the
  // step, so the resumed run draws the batches the uninterrupted one would have.
  xg::nn::BatchSampler sampler(x.size(0), 100, true, /*seed=*/1);
  for (std::int64_t t = 0; t < first; ++t) sampler.next();

  for (std::int64_t t = first; t < last; ++t) {
    const xg::Tensor batch = sampler.next();
    const xg::Tensor loss = xg::nn::functional::mse_loss(model->forward(x.index_select(0, batch)),
                                                         y.index_select(0, batch));
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
  }
  if (!save_to.empty()) xg::save(*model, optimizer, save_to, {{"step", std::to_string(last)}});
  return model;
}

int main(int argc, char** argv) {
  // Where to write the checkpoint: the first argument, or the system's temporary directory.
  const std::string path =
      argc > 1 ? argv[1]
               : (std::filesystem::temp_directory_path() / "xgrad_guide_checkpoint.safetensors")
                     .string();

  const auto straight = train(200, "", "");
  train(100, path, "");                       // stops halfway and saves
  const auto resumed = train(200, "", path);  // continues from the checkpoint
  std::filesystem::remove(path);

  bool same = true;
  const auto p = straight->named_parameters(), q = resumed->named_parameters();
  for (std::size_t i = 0; i < p.size(); ++i) {
    std::cout << std::setprecision(17) << p[i].name << ": uninterrupted " << p[i].tensor.item()
              << ", resumed " << q[i].tensor.item() << "\n";
    same = same && p[i].tensor.item() == q[i].tensor.item();  // exactly: the same arithmetic
  }
  if (!same) {
    std::cerr << "FAILED: the resumed run ended elsewhere\n";
    return 1;
  }
  return 0;
}
