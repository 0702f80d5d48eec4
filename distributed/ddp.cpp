#include "ddp.hpp"

#include <mpi.h>

#include <chrono>
#include <cstring>
#include <limits>
#include <string>

#include "../autograd/autograd.hpp"
#include "../autograd/creation.hpp"
#include "../autograd/grad_mode.hpp"
#include "../autograd/ops.hpp"
#include "../tensor/check.hpp"
#include "distributed.hpp"
#include "group.hpp"

namespace xg::nn::parallel {

namespace detail_mpi = xg::distributed::detail;

// The buckets and their state through one backward. Buckets hold the parameters in reverse
// registration order (backward computes the last layers' gradients first), one dtype each, and
// are all-reduced strictly in their order, so that every rank issues the same collectives in the
// same order whatever order its gradients arrive in.
struct DistributedDataParallel::Reducer {
  struct Bucket {
    std::vector<std::size_t> params;  // indices into `params`
    std::vector<std::int64_t> offsets;
    Tensor flat;  // the gradients side by side, then their sum over the ranks
    std::int64_t ready = 0;
    MPI_Request request = MPI_REQUEST_NULL;
    bool started = false;
  };

  MPI_Comm comm = MPI_COMM_NULL;
  int world_size = 1;
  bool find_unused = false;
  bool no_sync = false;
  std::vector<Tensor> params;
  std::vector<std::size_t> bucket_of;  // per parameter
  std::vector<std::size_t> slot_of;    // its place in its bucket
  std::vector<Bucket> buckets;
  std::vector<bool> got_gradient;
  std::size_t next_to_start = 0;
  bool in_backward = false;
  std::int64_t started_in_hooks = 0;
  Stats stats;

  // A backward that threw before its end left buckets started: wait for them (every rank
  // started the same ones, in order) and start afresh.
  void abandon() {
    for (std::size_t k = 0; k < next_to_start; ++k) {
      if (buckets[k].request != MPI_REQUEST_NULL) MPI_Wait(&buckets[k].request, MPI_STATUS_IGNORE);
    }
    in_backward = false;
    reset();
  }

  void reset() {
    for (Bucket& b : buckets) {
      b.ready = 0;
      b.started = false;
      b.request = MPI_REQUEST_NULL;
    }
    got_gradient.assign(params.size(), false);
    next_to_start = 0;
    started_in_hooks = 0;
  }

  // Starts the ready buckets in order, and lets MPI progress the ones started.
  void start_ready() {
    while (next_to_start < buckets.size() &&
           buckets[next_to_start].ready ==
               static_cast<std::int64_t>(buckets[next_to_start].params.size())) {
      Bucket& b = buckets[next_to_start++];
      detail_mpi::check_mpi(
          MPI_Iallreduce(MPI_IN_PLACE, raw(b.flat), static_cast<int>(b.flat.numel()),
                         detail_mpi::mpi_type(b.flat.dtype()), MPI_SUM, comm, &b.request),
          "DistributedDataParallel");
      b.started = true;
    }
    for (std::size_t k = 0; k < next_to_start; ++k) {
      int done = 0;
      if (buckets[k].request != MPI_REQUEST_NULL)
        MPI_Test(&buckets[k].request, &done, MPI_STATUS_IGNORE);
    }
  }

  static void* raw(Tensor& t) {
    return t.dtype() == kFloat64 ? static_cast<void*>(t.data_ptr<double>())
                                 : static_cast<void*>(t.data_ptr<float>());
  }

  // The view of parameter i's gradient in its bucket.
  Tensor slot(std::size_t i) {
    Bucket& b = buckets[bucket_of[i]];
    const std::int64_t at = b.offsets[slot_of[i]];
    return b.flat.narrow(0, at, params[i].numel()).view(params[i].shape());
  }

  // A parameter's hook: what its .grad will hold after this backward goes into the bucket.
  void on_gradient(std::size_t i, const Tensor& incoming) {
    if (no_sync || !incoming.defined()) return;
    if (!in_backward) {
      in_backward = true;
      reset();
      autograd::queue_callback([this] { finish(); });
    }
    started_in_hooks = static_cast<std::int64_t>(next_to_start);  // before this gradient
    NoGradGuard no_grad;
    const Tensor current = params[i].grad();
    slot(i).copy_(current.defined() ? current + incoming : incoming);
    got_gradient[i] = true;
    ++buckets[bucket_of[i]].ready;
    start_ready();
  }

  // At the end of backward: the parameters that got no gradient, the buckets left, the wait,
  // and the averages written into .grad.
  void finish() {
    in_backward = false;
    NoGradGuard no_grad;
    std::vector<std::int32_t> used(params.size(), 0);
    std::vector<std::string> missing;
    for (std::size_t i = 0; i < params.size(); ++i) {
      if (got_gradient[i]) {
        used[i] = 1;
        continue;
      }
      missing.push_back(std::to_string(i));
      const Tensor current = params[i].grad();  // accumulated locally under no_sync, or none
      if (current.defined()) {
        slot(i).copy_(current);
        used[i] = 1;
      } else {
        slot(i).zero_();
      }
      ++buckets[bucket_of[i]].ready;
    }
    if (!missing.empty() && !find_unused) {
      // Every bucket before the first incomplete one was started alike on every rank whose
      // gradients match; finish those before refusing.
      for (std::size_t k = 0; k < next_to_start; ++k)
        MPI_Wait(&buckets[k].request, MPI_STATUS_IGNORE);
      std::string list;
      for (const auto& m : missing) list += (list.empty() ? "" : ", ") + m;
      XG_CHECK_STATE(false, "DistributedDataParallel: parameters ", list,
                     " (in module.parameters() order) received no gradient in this backward; "
                     "build it with DistributedDataParallelOptions().find_unused_parameters(true) "
                     "if the forward does not use every parameter");
    }
    start_ready();
    const auto start = std::chrono::steady_clock::now();
    for (Bucket& b : buckets) {
      detail_mpi::check_mpi(MPI_Wait(&b.request, MPI_STATUS_IGNORE), "DistributedDataParallel");
    }
    stats.wait_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (find_unused) {  // which parameters some rank used
      detail_mpi::check_mpi(MPI_Allreduce(MPI_IN_PLACE, used.data(), static_cast<int>(used.size()),
                                          MPI_INT32_T, MPI_MAX, comm),
                            "DistributedDataParallel");
    }
    stats.buckets = static_cast<std::int64_t>(buckets.size());
    stats.bytes = 0;
    for (Bucket& b : buckets) {
      stats.bytes += b.flat.numel() * static_cast<std::int64_t>(element_size(b.flat.dtype()));
      b.flat.div_(static_cast<double>(world_size));
    }
    stats.buckets_started_during_backward = started_in_hooks;
    for (std::size_t i = 0; i < params.size(); ++i) {
      if (!used[i]) continue;  // unused on every rank: its gradient stays undefined
      Tensor& grad = params[i].mutable_grad();
      if (grad.defined()) {
        grad.copy_(slot(i));
      } else {
        grad = slot(i).clone();
      }
    }
  }
};

DistributedDataParallel::DistributedDataParallel(std::shared_ptr<Module> wrapped,
                                                 const DistributedDataParallelOptions& options)
    : Module("DistributedDataParallel"), options_(options) {
  constexpr const char* op = "DistributedDataParallel";
  XG_CHECK_ARG(wrapped != nullptr, op, ": got no module");
  XG_CHECK_ARG(options.bucket_cap_mb() > 0, op, ": bucket_cap_mb must be positive, got ",
               xg::detail::fixed6(options.bucket_cap_mb()));
  auto reducer = std::make_shared<Reducer>();
  reducer->comm = detail_mpi::communicator(op);
  reducer->world_size = distributed::get_world_size();
  reducer->find_unused = options.find_unused_parameters();
  module = register_module("module", std::move(wrapped));

  // Every rank starts from rank 0's parameters and buffers (a different count or shape on some
  // rank makes every rank throw, naming it).
  {
    NoGradGuard no_grad;
    std::vector<Tensor> counts;
    distributed::all_gather(
        counts, scalar_tensor(static_cast<std::int64_t>(module->parameters().size()), kInt64));
    for (std::size_t r = 1; r < counts.size(); ++r) {
      const auto first = counts[0].item<std::int64_t>(), other = counts[r].item<std::int64_t>();
      XG_CHECK_ARG(other == first, op, ": rank 0's module has ", first, " parameters but rank ", r,
                   "'s has ", other);
    }
    for (Tensor p : module->parameters()) distributed::broadcast(p, 0);
    for (Tensor b : module->buffers()) {
      if (b.defined()) distributed::broadcast(b, 0);
    }
  }

  for (const Tensor& p : module->parameters()) {
    if (!p.requires_grad()) continue;  // frozen: nothing to average (and floating point if not)
    reducer->params.push_back(p);
  }
  // Buckets, last parameters first, closed at the cap or at a change of dtype.
  const auto cap = static_cast<std::int64_t>(options.bucket_cap_mb() * 1024 * 1024);
  const std::size_t n = reducer->params.size();
  reducer->bucket_of.assign(n, 0);
  reducer->slot_of.assign(n, 0);
  std::int64_t bytes = 0, elements = 0;
  for (std::size_t k = n; k-- > 0;) {
    const Tensor& p = reducer->params[k];
    const std::int64_t size = p.numel() * static_cast<std::int64_t>(element_size(p.dtype()));
    const bool fits = !reducer->buckets.empty() && bytes + size <= cap &&
                      reducer->params[reducer->buckets.back().params.front()].dtype() == p.dtype();
    if (!fits) {
      if (!reducer->buckets.empty()) {
        reducer->buckets.back().flat =
            zeros({elements}, reducer->params[reducer->buckets.back().params.front()].dtype());
      }
      reducer->buckets.emplace_back();
      bytes = elements = 0;
    }
    Reducer::Bucket& b = reducer->buckets.back();
    reducer->bucket_of[k] = reducer->buckets.size() - 1;
    reducer->slot_of[k] = b.params.size();
    b.params.push_back(k);
    b.offsets.push_back(elements);
    bytes += size;
    elements += p.numel();
  }
  if (!reducer->buckets.empty()) {
    reducer->buckets.back().flat =
        zeros({elements}, reducer->params[reducer->buckets.back().params.front()].dtype());
  }
  for (const Reducer::Bucket& b : reducer->buckets) {
    XG_CHECK_ARG(b.flat.numel() <= std::numeric_limits<int>::max(), op, ": a bucket of ",
                 b.flat.numel(), " elements is more than one MPI call sends; lower bucket_cap_mb");
  }
  reducer->reset();
  const std::weak_ptr<Reducer> weak = reducer;
  for (std::size_t i = 0; i < n; ++i) {
    reducer->params[i].register_hook([weak, i](const Tensor& grad) {
      if (const auto r = weak.lock()) r->on_gradient(i, grad);
      return Tensor();  // the gradient itself is unchanged: finish() writes the average
    });
  }
  reducer_ = std::move(reducer);
}

DistributedDataParallel::~DistributedDataParallel() = default;

Tensor DistributedDataParallel::forward(const Tensor& input) {
  if (reducer_->in_backward) reducer_->abandon();
  if (options_.broadcast_buffers()) {
    NoGradGuard no_grad;
    for (Tensor b : module->buffers()) {
      if (b.defined()) distributed::broadcast(b, 0);
    }
  }
  return module->forward(input);
}

DistributedDataParallel::NoSyncGuard::NoSyncGuard(DistributedDataParallel& ddp)
    : ddp_(ddp), previous_(ddp.reducer_->no_sync) {
  ddp_.reducer_->no_sync = true;
}

DistributedDataParallel::NoSyncGuard::~NoSyncGuard() { ddp_.reducer_->no_sync = previous_; }

const DistributedDataParallel::Stats& DistributedDataParallel::last_stats() const {
  return reducer_->stats;
}

std::int64_t DistributedDataParallel::num_buckets() const {
  return static_cast<std::int64_t>(reducer_->buckets.size());
}

}  // namespace xg::nn::parallel
