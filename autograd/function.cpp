#include "function.hpp"

#include "../tensor/check.hpp"
#include "tensor_impl.hpp"

namespace xg::autograd {

std::vector<Tensor> AutogradContext::get_saved_variables() {
  std::vector<Tensor> out;
  XG_CHECK_STATE(node_, "get_saved_variables: only backward can read the saved tensors");
  for (const auto& s : saved_) out.push_back(s.unpack(*node_));
  return out;
}

bool AutogradContext::needs_input_grad(std::size_t i) const {
  return node_ && i < node_->next_edges.size() && node_->next_edges[i].node != nullptr;
}

namespace detail {

std::string demangle(const char* name) {
  int status = 0;
  char* readable = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  std::string out = status == 0 && readable ? readable : name;
  std::free(readable);
  const auto colon = out.rfind("::");  // "ns::MyFn" reads as "MyFn", as PyTorch names nodes
  return colon == std::string::npos ? out : out.substr(colon + 2);
}

void set_grad_fn(const Tensor& t, std::shared_ptr<Node> node) {
  t.impl()->grad_fn = std::move(node);
  t.impl()->requires_grad = true;
}

std::vector<SavedTensor> save_tensors(const std::vector<Tensor>& to_save, const Tensor& output) {
  std::vector<SavedTensor> saved;
  for (const auto& t : to_save) {
    const bool is_output = t.defined() && t.impl()->array.same_view(output.impl()->array);
    saved.push_back(is_output ? SavedTensor::output(output) : SavedTensor::input(t));
  }
  return saved;
}

GradientList select_gradients(const Node& node, std::vector<Tensor> grads,
                              const std::vector<bool>& is_tensor_arg) {
  const std::size_t tensors = node.next_edges.size();
  if (grads.size() == tensors) return GradientList(grads.begin(), grads.end());
  if (grads.size() == is_tensor_arg.size()) {
    GradientList picked;
    for (std::size_t i = 0; i < grads.size(); ++i) {
      if (is_tensor_arg[i]) picked.push_back(std::move(grads[i]));
    }
    return picked;
  }
  xg::detail::fail<std::runtime_error>(
      "backward: ", node.name(), " returned ", grads.size(), " gradients, expected ", tensors,
      " (one per tensor input) or ", is_tensor_arg.size(), " (one per forward argument)");
}

}  // namespace detail
}  // namespace xg::autograd
