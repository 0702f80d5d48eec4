// Graph nodes, saved tensors, gradient accumulators, and the non-recursive graph teardown.
#include "node.hpp"

#include <cctype>

#include "../tensor/check.hpp"
#include "../tensor/kernels.hpp"
#include "grad_mode.hpp"
#include "ops.hpp"
#include "record.hpp"
#include "tensor_impl.hpp"

namespace xg::autograd {

namespace {
// Nodes whose destruction was deferred by a teardown already running on this thread.
thread_local std::vector<std::shared_ptr<Node>>* pending_releases = nullptr;
}  // namespace

void release_node(std::shared_ptr<Node>&& node) {
  if (!node) return;
  if (node.use_count() > 1) {  // someone else still holds it: nothing cascades
    node.reset();
    return;
  }
  if (pending_releases) {
    pending_releases->push_back(std::move(node));
    return;
  }
  // The stack allocates only when the node owned another node alone (a graph of one op whose
  // inputs are leaves or still held elsewhere, the common case, never reaches malloc).
  std::vector<std::shared_ptr<Node>> stack;
  pending_releases = &stack;
  node.reset();  // its destructor defers whatever it owned onto `stack`
  while (!stack.empty()) {
    std::shared_ptr<Node> last = std::move(stack.back());
    stack.pop_back();
    last.reset();
  }
  pending_releases = nullptr;
}

Node::~Node() {
  for (auto& edge : next_edges) release_node(std::move(edge.node));
}

std::string Node::name() const {
  std::string out;
  bool upper = true;
  for (const char* c = op_; *c; ++c) {
    if (*c == '_') {
      upper = true;
      continue;
    }
    out += upper ? static_cast<char>(std::toupper(static_cast<unsigned char>(*c))) : *c;
    upper = false;
  }
  return out + "Backward";
}

std::string Node::describe_forward() const {
  std::string out = std::string(op_) + " on ";
  for (std::size_t i = 0; i < input_meta.size(); ++i) {
    if (i) out += ", ";
    out +=
        shape_to_string(input_meta[i].shape) + " " + std::string(dtype_name(input_meta[i].dtype));
  }
  return out;
}

InputMeta::InputMeta(const Tensor& t) : dtype(detail::array_of(t).dtype()) {
  for (auto size : detail::array_of(t).sizes()) shape.push_back(static_cast<std::int64_t>(size));
}

SavedTensor SavedTensor::input(const Tensor& t) {
  SavedTensor s;
  if (t.impl()->view_base) {
    // A view holds its base, and the base may own the node that saves the view (an in-place op
    // on one view reading another: the base's CopySlices holds that node). The view's data and
    // history are kept without the base, so that no such cycle keeps the graph alive.
    auto view = detail::make_pooled<detail::TensorImpl>(t.impl()->array);
    view->requires_grad = t.impl()->requires_grad;
    view->grad_fn = t.impl()->grad_fn;
    s.impl_ = std::move(view);
  } else {
    s.impl_ = t.impl();
  }
  s.data_at_save_ = t.impl()->array.storage();
  s.version_ = t.impl()->array.version();
  return s;
}

SavedTensor SavedTensor::output(const Tensor& t) {
  SavedTensor s;
  s.output_ = detail::make_pooled<const Array>(t.impl()->array);
  s.version_ = s.output_->version();
  return s;
}

Tensor SavedTensor::unpack(Node& owner) const {
  XG_CHECK_STATE(!released_,
                 "backward: trying to backward through the graph a second time (or to use saved "
                 "tensors after they have been freed) at ",
                 owner.name(), " (", owner.describe_forward(),
                 "); pass retain_graph=true to the first backward if you need to run it twice");
  const Array& data = impl_ ? impl_->array : *output_;
  XG_CHECK_STATE(
      !impl_ || data_at_save_.lock() == data.storage(),
      "backward: a tensor needed for gradient computation by ", owner.name(), " (",
      owner.describe_forward(), ") had its data replaced by set_data after the forward, now ",
      detail::describe(Tensor(impl_)), "; call set_data after backward, or run the forward again");
  XG_CHECK_STATE(data.version() == version_,
                 "backward: a tensor needed for gradient computation was modified by an in-place "
                 "operation: ",
                 owner.name(), " (", owner.describe_forward(), ") saved it at version ", version_,
                 ", it is now at version ", data.version(),
                 "; change a clone() instead, or do the in-place op after backward");
  if (impl_) return Tensor(impl_);
  // The op's own output: rebuilt around the same data, with this node as its grad_fn, so that
  // a backward written with it is differentiable again (create_graph).
  auto impl = detail::make_pooled<detail::TensorImpl>(*output_);
  impl->requires_grad = true;
  impl->grad_fn = owner.shared_from_this();
  return Tensor(std::move(impl));
}

void SavedTensor::release() {
  if (!defined()) return;
  impl_.reset();
  output_.reset();
  released_ = true;
}

AccumulateGrad::AccumulateGrad(detail::TensorImpl* leaf) : Node("accumulate_grad"), leaf_(leaf) {
  is_accumulator_ = true;
}

Tensor AccumulateGrad::run_leaf_hooks(Tensor grad) const {
  for (const auto& hook : leaf_->hooks) grad = apply_hook(hook, std::move(grad));
  return grad;
}

Tensor apply_hook(const GradHook& hook, Tensor grad) {
  Tensor replaced = hook(grad);
  if (!replaced.defined()) return grad;
  XG_CHECK_STATE(replaced.is_same_size(grad) && replaced.dtype() == grad.dtype(),
                 "backward: hook has changed the size or dtype of value: the gradient is ",
                 detail::describe(grad), ", the hook returned ", detail::describe(replaced));
  return replaced;
}

// The engine has run the leaf's hooks already.
void accumulate_grad(Tensor& current, Tensor grad) {
  // A .grad assigned by hand (mutable_grad()) must fit, or add_ would fail or broadcast.
  XG_CHECK_STATE(
      !current.defined() || (current.is_same_size(grad) && current.dtype() == grad.dtype()),
      "backward: .grad holds a ", detail::describe(current), " tensor but the gradient is ",
      detail::describe(grad),
      " (assigned grad has data of a different size or dtype); reset it with "
      "mutable_grad() = {}");
  if (GradMode::is_enabled()) {
    // create_graph: the gradient stays part of a graph; a copy, so that later accumulation
    // never writes into a tensor the caller holds.
    current = current.defined() ? current + grad : grad.clone();
  } else if (!current.defined()) {
    // Keep a gradient nobody else holds; copy one that is shared (the user's, or a sibling's).
    // A view (an expanded gradient, say) is copied too: .grad must own contiguous data that
    // later gradients can be added into.
    const bool unshared = grad.impl().use_count() == 1 &&
                          grad.impl()->array.storage().use_count() == 1 &&
                          grad.impl()->array.is_contiguous() && !grad.impl()->grad_fn;
    current = unshared ? std::move(grad) : grad.detach().clone();
  } else {
    current.add_(grad);
  }
}

GradientList AccumulateGrad::apply(Tensor grad) {
  const std::lock_guard<std::mutex> lock(mutex_);
  accumulate_grad(leaf_->grad, std::move(grad));
  return {};
}

namespace {
// Guards the lazy creation of leaves' accumulators: two threads recording ops on one parameter
// must get the same node. Striped, so a tensor carries no mutex of its own.
std::mutex& accumulator_mutex(const void* leaf) {
  static std::mutex stripes[64];
  return stripes[(reinterpret_cast<std::uintptr_t>(leaf) >> 6) % 64];
}
}  // namespace

Edge gradient_edge(const Tensor& t) {
  const auto& impl = t.impl();
  refresh_if_stale(impl);
  if (impl->grad_fn) return Edge{impl->grad_fn};
  if (!impl->requires_grad) return Edge{};
  AccumulateGrad* acc = impl->grad_accumulator.load(std::memory_order_acquire);
  if (!acc) {
    const std::lock_guard<std::mutex> lock(accumulator_mutex(impl.get()));
    acc = impl->grad_accumulator.load(std::memory_order_relaxed);
    if (!acc) {
      acc = new AccumulateGrad(impl.get());
      impl->grad_accumulator.store(acc, std::memory_order_release);
    }
  }
  // Shares the leaf's ownership: the accumulator lives exactly as long as its leaf.
  return Edge{std::shared_ptr<Node>(impl, acc)};
}

CopySlices::CopySlices(const Tensor& base, const Tensor& view, std::shared_ptr<Node> fn,
                       bool self_is_input)
    : Node(fn->op()),
      base_shape_(base.shape()),
      sizes_(detail::array_of(view).sizes().begin(), detail::array_of(view).sizes().end()),
      strides_(detail::array_of(view).strides().begin(), detail::array_of(view).strides().end()),
      offset_(detail::array_of(view).offset() - detail::array_of(base).offset()),
      fn_(std::move(fn)),
      self_is_input_(self_is_input) {
  next_edges.push_back(gradient_edge(base));
  input_meta.push_back(InputMeta(base));
  for (std::size_t i = self_is_input ? 1 : 0; i < fn_->next_edges.size(); ++i) {
    next_edges.push_back(fn_->next_edges[i]);
    input_meta.push_back(fn_->input_meta[i]);
  }
}

GradientList CopySlices::apply(Tensor grad) {
  const Tensor dense = grad.contiguous();
  const Shape sizes(sizes_.begin(), sizes_.end()), strides(strides_.begin(), strides_.end());
  const Tensor slice = as_strided(dense, sizes, strides, dense.storage_offset() + offset_);
  // fn may hand its gradient on as it is (add does): give it a copy it may keep.
  GradientList res = fn_->apply(slice.clone());
  const std::size_t first = self_is_input_ ? 1 : 0;
  XG_CHECK_STATE(res.size() == fn_->next_edges.size(), "backward: ", fn_->name(), " returned ",
                 res.size(), " gradients, expected ", fn_->next_edges.size());
  const Tensor self_grad = self_is_input_ ? res[0] : Tensor();
  Tensor base_grad;
  if (GradMode::is_enabled()) {
    // create_graph: the same in differentiable ops, without writing into a tensor in place.
    base_grad = dense - detail::view_scatter(slice, base_shape_, sizes_, strides_, offset_);
    if (self_grad.defined()) {
      base_grad =
          base_grad + detail::view_scatter(self_grad, base_shape_, sizes_, strides_, offset_);
    }
  } else {
    base_grad = dense.clone();
    const Array target = detail::array_of(base_grad).view(
        {sizes_.data(), sizes_.size()}, {strides_.data(), strides_.size()},
        detail::array_of(base_grad).offset() + offset_);
    if (self_grad.defined()) {
      detail::copy_into(target, detail::array_of(self_grad));
    } else {
      Array t = target;
      kernels::fill(t, 0);
    }
  }
  GradientList out;
  out.push_back(std::move(base_grad));
  for (std::size_t i = first; i < res.size(); ++i) out.push_back(std::move(res[i]));
  return out;
}

void refresh_view(const std::shared_ptr<detail::TensorImpl>& impl) {
  const auto& base = impl->view_base;
  impl->view_version = impl->array.version();
  if (!base->requires_grad) return;  // the base has no history to see the view through
  const Array& a = impl->array;
  const Shape sizes = a.shape(), strides = a.stride_vector();
  Tensor regenerated;
  {
    const bool previous = GradMode::is_enabled();
    GradMode::set_enabled(true);
    struct Restore {
      bool previous;
      ~Restore() { GradMode::set_enabled(previous); }
    } restore{previous};
    regenerated = as_strided(Tensor(base), sizes, strides, a.offset());
  }
  impl->grad_fn = regenerated.impl()->grad_fn;
  impl->requires_grad = true;
}

}  // namespace xg::autograd

namespace xg::detail {
TensorImpl::~TensorImpl() {
  autograd::release_node(std::move(grad_fn));
  delete grad_accumulator.load(std::memory_order_relaxed);
}
}  // namespace xg::detail
