#include "layers.hpp"

#include <cmath>

#include "../autograd/creation.hpp"
#include "../autograd/ops.hpp"
#include "../tensor/check.hpp"
#include "functional.hpp"
#include "init.hpp"

namespace xg::nn {

Linear::Linear(std::int64_t in_features, std::int64_t out_features, bool with_bias)
    : Module("Linear"), in_features_(in_features) {
  XG_CHECK_ARG(in_features > 0 && out_features > 0,
               "Linear: in_features and out_features must be positive, got ", in_features, " and ",
               out_features);
  check_shape(Shape{out_features, in_features}, "Linear", element_size(kFloat32));
  weight = register_parameter("weight", empty({out_features, in_features}));
  if (with_bias) bias = register_parameter("bias", empty({out_features}));
  reset_parameters();
}

void Linear::reset_parameters() {
  // kaiming_uniform_ with a = sqrt(5) gives U(-1/sqrt(in), 1/sqrt(in)), PyTorch's default.
  init::kaiming_uniform_(weight, std::sqrt(5.0));
  if (bias.defined()) {
    const double bound = 1.0 / std::sqrt(static_cast<double>(in_features_));
    init::uniform_(bias, -bound, bound);
  }
}

void Linear::on_parameter_replaced(const std::string& name, const Tensor& t) {
  (name == "weight" ? weight : bias) = t;
}

Tensor Linear::forward(const Tensor& input) { return functional::linear(input, weight, bias); }

Embedding::Embedding(std::int64_t num_embeddings, std::int64_t embedding_dim)
    : Module("Embedding") {
  XG_CHECK_ARG(num_embeddings > 0 && embedding_dim > 0,
               "Embedding: num_embeddings and embedding_dim must be positive, got ", num_embeddings,
               " and ", embedding_dim);
  check_shape(Shape{num_embeddings, embedding_dim}, "Embedding", element_size(kFloat32));
  weight = register_parameter("weight", randn({num_embeddings, embedding_dim}));
}

void Embedding::on_parameter_replaced(const std::string& name, const Tensor& t) {
  if (name == "weight") weight = t;
}

Tensor Embedding::forward(const Tensor& indices) {
  XG_CHECK_ARG(indices.defined() && indices.dtype() == kInt64,
               "Embedding: indices must be an Int64 tensor, got ",
               indices.defined() ? shape_to_string(indices.shape()) + " " +
                                       std::string(dtype_name(indices.dtype()))
                                 : std::string("an undefined tensor"));
  Shape shape = indices.shape();
  shape.push_back(weight.size(1));
  return index_select(weight, 0, indices.reshape({-1})).reshape(shape);
}

LayerNorm::LayerNorm(Shape normalized_shape, double eps, bool elementwise_affine, bool with_bias)
    : Module("LayerNorm"), normalized_shape_(std::move(normalized_shape)), eps_(eps) {
  check_shape(normalized_shape_, "LayerNorm", element_size(kFloat32));
  if (elementwise_affine) {
    weight = register_parameter("weight", ones(normalized_shape_));
    if (with_bias) bias = register_parameter("bias", zeros(normalized_shape_));
  }
}

void LayerNorm::on_parameter_replaced(const std::string& name, const Tensor& t) {
  (name == "weight" ? weight : bias) = t;
}

Tensor LayerNorm::forward(const Tensor& input) {
  const Shape shape = input.shape();
  const std::size_t k = normalized_shape_.size();
  XG_CHECK_ARG(shape.size() >= k && std::equal(normalized_shape_.begin(), normalized_shape_.end(),
                                               shape.end() - static_cast<std::ptrdiff_t>(k)),
               "LayerNorm: expected input with trailing shape ", shape_to_string(normalized_shape_),
               ", got ", shape_to_string(shape));
  return functional::layer_norm(input, normalized_shape_, weight, bias, eps_);
}

Dropout::Dropout(double p, std::optional<Generator> generator)
    : Module("Dropout"), p_(p), generator_(std::move(generator)) {
  // NaN fails too
  XG_CHECK_ARG(p >= 0 && p <= 1, "Dropout: p must be in [0, 1], got ", detail::fixed6(p));
}

Tensor Dropout::forward(const Tensor& input) {
  return functional::dropout(input, p_, is_training(), generator_);
}

Sequential::Sequential(std::initializer_list<std::shared_ptr<Module>> modules)
    : Module("Sequential") {
  for (const auto& m : modules) push_back(m);
}

void Sequential::push_back(std::shared_ptr<Module> module) {
  register_module(std::to_string(modules_.size()), module);
  modules_.push_back(std::move(module));
}

Tensor Sequential::forward(const Tensor& input) {
  Tensor x = input;
  for (auto& m : modules_) x = m->forward(x);
  return x;
}

Tensor ReLU::forward(const Tensor& input) { return relu(input); }
Tensor Tanh::forward(const Tensor& input) { return tanh(input); }
Tensor Sigmoid::forward(const Tensor& input) { return sigmoid(input); }
GELU::GELU(std::string approximate) : Module("GELU"), approximate_(std::move(approximate)) {
  XG_CHECK_ARG(approximate_ == "none" || approximate_ == "tanh",
               "GELU: approximate must be 'none' or 'tanh', got '", approximate_, "'");
}

Tensor GELU::forward(const Tensor& input) { return gelu(input, approximate_); }
Tensor Flatten::forward(const Tensor& input) { return flatten(input, start_dim_, end_dim_); }

}  // namespace xg::nn
