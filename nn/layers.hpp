// The layers small models are made of, as torch::nn's: Linear, Embedding, LayerNorm, Dropout,
// Sequential and activation modules.
#pragma once

#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "../autograd/generator.hpp"
#include "module.hpp"

namespace xg::nn {

// y = x W^T + b with W of shape [out, in]; W and b start U(-1/sqrt(in), 1/sqrt(in)), as PyTorch.
class Linear : public Module {
 public:
  Linear(std::int64_t in_features, std::int64_t out_features, bool bias = true);
  Tensor forward(const Tensor& input) override;
  void reset_parameters();  // draws weight and bias again, as the constructor does
  Tensor weight, bias;      // bias is undefined without one

 protected:
  void on_parameter_replaced(const std::string& name, const Tensor& t) override;

 private:
  std::int64_t in_features_;
};

// A lookup table: row i of weight [num_embeddings, embedding_dim] for index i; weight starts N(0,
// 1).
class Embedding : public Module {
 public:
  Embedding(std::int64_t num_embeddings, std::int64_t embedding_dim);
  // indices: Int64 of any shape; the result has shape indices.shape + [embedding_dim].
  Tensor forward(const Tensor& indices) override;
  Tensor weight;

 protected:
  void on_parameter_replaced(const std::string& name, const Tensor& t) override;
};

// Normalizes over the trailing dims given by normalized_shape, then scales and shifts
// (weight starts at ones, bias at zeros), as PyTorch 2.1's nn.LayerNorm: with
// elementwise_affine = false there are no parameters; with bias = false only weight is
// registered (a checkpoint has no "bias" entry).
class LayerNorm : public Module {
 public:
  explicit LayerNorm(Shape normalized_shape, double eps = 1e-5, bool elementwise_affine = true,
                     bool bias = true);
  explicit LayerNorm(std::int64_t normalized_size, double eps = 1e-5,
                     bool elementwise_affine = true, bool bias = true)
      : LayerNorm(Shape{normalized_size}, eps, elementwise_affine, bias) {}
  Tensor forward(const Tensor& input) override;
  Tensor weight, bias;  // undefined when not registered

 protected:
  void on_parameter_replaced(const std::string& name, const Tensor& t) override;

 private:
  Shape normalized_shape_;
  double eps_;
};

// In training, zeroes each element with probability p and scales the rest by 1 / (1 - p);
// in eval, the identity.
class Dropout : public Module {
 public:
  // with a generator, the masks are drawn from it (an addition, as functional::dropout's)
  explicit Dropout(double p = 0.5, std::optional<Generator> generator = std::nullopt);
  Tensor forward(const Tensor& input) override;

 private:
  double p_;
  std::optional<Generator> generator_;
};

// Runs its modules in order, each on the previous one's output.
class Sequential : public Module {
 public:
  Sequential() : Module("Sequential") {}
  Sequential(std::initializer_list<std::shared_ptr<Module>> modules);
  // Appends a module, registered under its index ("0", "1", ...).
  void push_back(std::shared_ptr<Module> module);
  Tensor forward(const Tensor& input) override;
  std::size_t size() const { return modules_.size(); }
  const std::shared_ptr<Module>& operator[](std::size_t i) const { return modules_.at(i); }

 private:
  std::vector<std::shared_ptr<Module>> modules_;
};

class ReLU : public Module {
 public:
  ReLU() : Module("ReLU") {}
  Tensor forward(const Tensor& input) override;
};

class Tanh : public Module {
 public:
  Tanh() : Module("Tanh") {}
  Tensor forward(const Tensor& input) override;
};

class Sigmoid : public Module {
 public:
  Sigmoid() : Module("Sigmoid") {}
  Tensor forward(const Tensor& input) override;
};

// approximate: "none" (the exact erf form) or "tanh", as nn.GELU; another string throws here.
class GELU : public Module {
 public:
  explicit GELU(std::string approximate = "none");
  Tensor forward(const Tensor& input) override;

 private:
  std::string approximate_;
};

// Merges dims start_dim..end_dim into one; by default every dim but the first (the batch).
class Flatten : public Module {
 public:
  explicit Flatten(std::int64_t start_dim = 1, std::int64_t end_dim = -1)
      : Module("Flatten"), start_dim_(start_dim), end_dim_(end_dim) {}
  Tensor forward(const Tensor& input) override;

 private:
  std::int64_t start_dim_, end_dim_;
};

}  // namespace xg::nn
