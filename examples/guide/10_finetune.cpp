// Guide, section 10: starting from another run's weights. A network with a body of tanh
// features and a head named sin_head is trained on sin(x) and saved. A network with the same
// body and a new head, cos_head, loads that checkpoint with strict = false (its head is
// missing from the file, and the file's head is unexpected), freezes its body and trains only
// the new head on cos(x). Checks: the names reported, the strict load's refusal, the body
// unchanged to the bit, and the new head's fit.
#include <filesystem>
#include <iomanip>
#include <iostream>
#include <memory>
#include <numbers>
#include <string>
#include <vector>
#include <xgrad/xgrad.hpp>

namespace nn = xg::nn;

// A body of two tanh layers and a linear head; the head's name is the task's.
struct Net : nn::Module {
  explicit Net(const std::string& head_name) : Module("Net") {
    body = register_module(
        "body", std::make_shared<nn::Sequential>(std::initializer_list<std::shared_ptr<Module>>{
                    std::make_shared<nn::Linear>(1, 32), std::make_shared<nn::Tanh>(),
                    std::make_shared<nn::Linear>(32, 32), std::make_shared<nn::Tanh>()}));
    head = register_module(head_name, std::make_shared<nn::Linear>(32, 1));
  }
  xg::Tensor forward(const xg::Tensor& x) override { return head->forward(body->forward(x)); }
  std::shared_ptr<nn::Sequential> body;
  std::shared_ptr<nn::Linear> head;
};

// Full-batch AdamW on the mean squared error; returns the last loss. The optimizer gets every
// parameter: those that do not require grad get no gradient, and AdamW skips them.
double fit(Net& model, const xg::Tensor& x, const xg::Tensor& y, int steps) {
  xg::optim::AdamW optimizer(model.parameters(), xg::optim::AdamWOptions(1e-2));
  double loss = 0;
  for (int step = 0; step < steps; ++step) {
    const xg::Tensor l = nn::functional::mse_loss(model.forward(x), y);
    optimizer.zero_grad();
    l.backward();
    optimizer.step();
    loss = l.item();
  }
  return loss;
}

double mse(Net& model, const xg::Tensor& x, const xg::Tensor& y) {
  xg::NoGradGuard no_grad;
  return nn::functional::mse_loss(model.forward(x), y).item();
}

std::string names(const std::vector<std::string>& list) {
  std::string text;
  for (const auto& name : list) text += (text.empty() ? "" : ", ") + name;
  return text;
}

int main(int argc, char** argv) {
  const std::string path =
      argc > 1 ? argv[1]
               : (std::filesystem::temp_directory_path() / "xgrad_guide_pretrained.safetensors")
                     .string();
  const xg::Tensor x = xg::linspace(-std::numbers::pi, std::numbers::pi, 2000).unsqueeze(1);
  std::cout << std::setprecision(4);

  // Pretraining: the whole network on sin(x).
  xg::manual_seed(0);
  Net pretrained("sin_head");
  std::cout << "sin(x), the whole network, 1000 steps: MSE " << fit(pretrained, x, xg::sin(x), 1000)
            << "\n";
  xg::save(pretrained, path);

  // Fine-tuning: the body from the checkpoint, a new head, trained on cos(x).
  xg::manual_seed(1);
  Net model("cos_head");
  try {
    xg::load(model, path);  // strict: every name must match
    std::cerr << "FAILED: a strict load accepted another head\n";
    return 1;
  } catch (const std::invalid_argument& e) {
    std::cout << "strict: " << e.what() << "\n";
  }
  const xg::IncompatibleKeys keys = xg::load(model, path, nullptr, /*strict=*/false);
  std::cout << "missing: " << names(keys.missing_keys)
            << "\nunexpected: " << names(keys.unexpected_keys) << "\n";
  model.body->requires_grad_(false);  // the features stay as pretrained
  xg::TensorMap body_before;          // copies: state_dict's tensors are the module's own
  for (const auto& [name, t] : xg::state_dict(*model.body)) body_before[name] = t.clone();
  const double before = mse(model, x, xg::cos(x));
  const double after = fit(model, x, xg::cos(x), 300);
  std::cout << "cos(x), the new head alone, 300 steps: MSE " << before << " -> " << after << "\n";
  std::filesystem::remove(path);

  bool ok = names(keys.missing_keys) == "cos_head.weight, cos_head.bias" &&
            names(keys.unexpected_keys) == "sin_head.bias, sin_head.weight";
  for (const auto& [name, t] : xg::state_dict(*model.body)) {
    ok = ok && xg::eq(t, body_before.at(name)).all().item<bool>();
  }
  for (const auto& [name, t] : xg::state_dict(pretrained)) {  // the body is the pretrained one
    if (name.starts_with("body.")) {
      ok = ok && xg::eq(t, body_before.at(name.substr(5))).all().item<bool>();
    }
  }
  // cos(x) has variance 1/2 on [-pi, pi]: a new head that learned nothing scores about that.
  ok = ok && after < 0.01 && after < before / 10;
  if (!ok) {
    std::cerr << "FAILED: the names, the frozen body or the new head's fit are not as claimed\n";
    return 1;
  }
  return 0;
}
