// Guide, section 5: mean squared error for numbers, cross-entropy for choices. Checks both
// losses and the cross-entropy gradient against their formulas, then trains a next-character
// model whose cross-entropy must come down to the entropy of the text.
#include <cmath>
#include <iostream>
#include <map>
#include <string>
#include <vector>
#include <xgrad/xgrad.hpp>

namespace F = xg::nn::functional;

int main() {
  bool ok = true;
  // Float64 throughout the checks: each side does a few dozen roundings of numbers near 1
  // (about 1e-16 each), so 1e-12 is wide, yet any wrong formula misses by far more.
  const auto f64 = xg::TensorOptions(xg::kFloat64);

  // ---- MSE: the mean of (prediction - target)^2 ----
  const xg::Tensor pred = xg::tensor({0.5, 1.5, -1.0}, f64);
  const xg::Tensor target = xg::tensor({1.0, 1.0, 0.0}, f64);
  const double mse = F::mse_loss(pred, target).item();                          // Reduction::Mean
  const double sse = F::mse_loss(pred, target, xg::nn::Reduction::Sum).item();  // the sin fit's
  std::cout << "mse_loss " << mse << " (by hand " << (0.25 + 0.25 + 1.0) / 3 << "), with Sum "
            << sse << "\n";
  ok = ok && std::abs(mse - 0.5) < 1e-12 && std::abs(sse - 1.5) < 1e-12;

  // ---- cross-entropy: -log(softmax(logits)[target]), averaged over the samples ----
  // Two samples, three classes: the model outputs scores (logits); the target is a class index.
  const xg::Tensor logits =
      xg::tensor({2.0, 1.0, 0.1, 0.5, 2.5, 0.3}, {2, 3}, f64.requires_grad(true));
  const xg::Tensor classes = xg::tensor({0, 2}, xg::kInt64);
  const xg::Tensor ce = F::cross_entropy(logits, classes);
  ce.backward();
  // By hand: p = softmax(row); loss = mean of -log p[target]; d loss / d logits = (p - onehot) / N.
  const double rows[2][3] = {{2.0, 1.0, 0.1}, {0.5, 2.5, 0.3}};
  const int target_of[2] = {0, 2};
  const auto grad = logits.grad().to_xarray<double>();
  double want = 0;
  for (int n = 0; n < 2; ++n) {
    double z = 0;
    for (double l : rows[n]) z += std::exp(l);
    want -= std::log(std::exp(rows[n][target_of[n]]) / z) / 2;
    for (int k = 0; k < 3; ++k) {
      const double p = std::exp(rows[n][k]) / z;
      ok = ok && std::abs(grad(n, k) - (p - (k == target_of[n] ? 1.0 : 0.0)) / 2) < 1e-12;
    }
  }
  std::cout << "cross_entropy " << ce.item() << " (by hand " << want << ")\n";
  ok = ok && std::abs(ce.item() - want) < 1e-12;

  // ---- a next-character model ----
  // Each character of the text is an input; the character after it is the target. The model
  // is a table of logits, one row per current character (a bigram model, as an Embedding),
  // so softmax(row) is its distribution over the next character.
  const std::string text = "the cat sat on the mat. the dog sat on the log. ";
  std::map<char, std::int64_t> id;
  for (char ch : text) id.emplace(ch, 0);
  std::int64_t vocab = 0;
  for (auto& [ch, i] : id) i = vocab++;
  std::vector<double> inputs, targets;
  for (std::size_t i = 0; i + 1 < text.size(); ++i) {
    inputs.push_back(static_cast<double>(id[text[i]]));
    targets.push_back(static_cast<double>(id[text[i + 1]]));
  }
  const xg::Tensor x = xg::tensor(inputs, xg::kInt64), y = xg::tensor(targets, xg::kInt64);

  xg::manual_seed(0);
  xg::nn::Embedding model(vocab, vocab);  // [current character] -> logits of the next
  xg::optim::AdamW optimizer(model.parameters(), xg::optim::AdamWOptions(0.1).weight_decay(0));
  double loss_value = 0;
  for (int t = 0; t < 300; ++t) {
    const xg::Tensor loss = F::cross_entropy(model.forward(x), y);
    optimizer.zero_grad();
    loss.backward();
    optimizer.step();
    loss_value = loss.item();
  }

  // The least cross-entropy any bigram table can reach is the text's conditional entropy,
  // -mean log(count(prev, next) / count(prev)): the model's softmax then equals the
  // frequencies of what follows each character.
  std::vector<std::vector<double>> count(vocab, std::vector<double>(vocab, 0.0));
  std::vector<double> count_prev(vocab, 0.0);
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const auto prev = static_cast<std::size_t>(inputs[i]),
               next = static_cast<std::size_t>(targets[i]);
    count[prev][next] += 1;
    count_prev[prev] += 1;
  }
  double entropy = 0;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const auto prev = static_cast<std::size_t>(inputs[i]),
               next = static_cast<std::size_t>(targets[i]);
    entropy -= std::log(count[prev][next] / count_prev[prev]);
  }
  entropy /= static_cast<double>(inputs.size());
  std::cout << "next character: " << vocab << " characters, a uniform guess costs "
            << std::log(static_cast<double>(vocab)) << " nats; after 300 steps the loss is "
            << loss_value << ", the text's entropy " << entropy << "\n";

  // What the model predicts after 'h' (the text always has 'e' there).
  xg::NoGradGuard no_grad;
  const xg::Tensor after_h = xg::softmax(model.forward(xg::full({1}, id['h'], xg::kInt64)), 1);
  const double p_e = after_h.narrow(1, id['e'], 1).item();
  std::cout << "P(next = 'e' | 'h') = " << p_e << "\n";

  // 300 full-batch AdamW steps bring the loss within 0.05 nats of its minimum (it ends about
  // 0.003 above); a wrong loss or gradient stays near the uniform guess.
  ok = ok && loss_value < entropy + 0.05 && p_e > 0.9;
  if (!ok) {
    std::cerr << "FAILED\n";
    return 1;
  }
  return 0;
}
