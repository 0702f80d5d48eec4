// What the gpt and char_lm examples need to train data-parallel when mpirun starts them, and to
// run alone when it does not: the process group, the rank and world size, the model wrapped in
// DistributedDataParallel, means over the ranks, and an error that ends the whole job. Without
// xgrad::distributed (MPI not found at build time) every program is a group of one.
#pragma once

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>
#include <xgrad/xgrad.hpp>

#ifdef XGRAD_EXAMPLES_MPI
#include <xgrad/distributed/ddp.hpp>
#include <xgrad/distributed/distributed.hpp>
#endif

namespace examples {

// Forms the process group when mpirun (or mpiexec) started the program, and gives each rank
// the cores of its machine divided by the ranks on it as threads, unless OMP_NUM_THREADS says
// otherwise. Returns the world size (1 without mpirun).
inline int start_data_parallel() {
#ifdef XGRAD_EXAMPLES_MPI
  if (!xg::distributed::is_mpi_launched()) return 1;
  xg::distributed::init_process_group();
  const char* local = std::getenv("OMPI_COMM_WORLD_LOCAL_SIZE");
  if (std::getenv("OMP_NUM_THREADS") == nullptr && local != nullptr) {
    const int ranks_here = std::max(1, std::atoi(local));
    const int cores = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
    xg::set_num_threads(std::max(1, cores / ranks_here));
  }
  return xg::distributed::get_world_size();
#else
  return 1;
#endif
}

// Runs a program's body: an exception is printed as "program: message" (with the rank when
// there are several) and ends the program with 1; under mpirun it ends the whole job, since the
// other ranks would wait for this one in their next collective forever.
template <class F>
int run_main(const char* program, F&& body) {
  try {
    start_data_parallel();
    body();
    return 0;
  } catch (const std::exception& e) {
#ifdef XGRAD_EXAMPLES_MPI
    if (xg::distributed::is_initialized() && xg::distributed::get_world_size() > 1) {
      std::cerr << program << ": rank " << xg::distributed::get_rank() << ": " << e.what()
                << std::endl;
      xg::distributed::abort(1);
    }
#endif
    std::cerr << program << ": " << e.what() << '\n';
    return 1;
  }
}

// A training loop's view of the process group: rank 0 of 1 when there is none.
class DataParallel {
 public:
  DataParallel() {
#ifdef XGRAD_EXAMPLES_MPI
    if (xg::distributed::is_initialized()) {
      rank_ = xg::distributed::get_rank();
      world_ = xg::distributed::get_world_size();
    }
#endif
  }
  int rank() const { return rank_; }
  int world() const { return world_; }

  // With several ranks, the model's gradients are averaged over them in backward from now on
  // (DistributedDataParallel, which also gives every rank rank 0's parameters and buffers).
  // Freeze parameters before: the frozen ones take no part. The gradients travel in buckets of
  // about bucket_cap_mb megabytes (PyTorch's default, 25).
  void wrap([[maybe_unused]] const std::shared_ptr<xg::nn::Module>& model,
            [[maybe_unused]] double bucket_cap_mb = 25.0) {
#ifdef XGRAD_EXAMPLES_MPI
    if (world_ > 1) {
      ddp_ = std::make_shared<xg::nn::parallel::DistributedDataParallel>(
          model, xg::nn::parallel::DistributedDataParallelOptions().bucket_cap_mb(bucket_cap_mb));
    }
#endif
  }
  xg::Tensor forward(xg::nn::Module& model, const xg::Tensor& input) {
#ifdef XGRAD_EXAMPLES_MPI
    if (ddp_) return ddp_->forward(input);
#endif
    return model.forward(input);
  }
  // loss.backward(); with sync false the gradients only accumulate on this rank (no_sync), and
  // the next synchronised backward averages the sum.
  void backward(const xg::Tensor& loss, [[maybe_unused]] bool sync = true) {
#ifdef XGRAD_EXAMPLES_MPI
    if (ddp_) {
      std::optional<xg::nn::parallel::DistributedDataParallel::NoSyncGuard> guard;
      if (!sync) guard.emplace(*ddp_);
      loss.backward();
      if (sync) {
        const auto& s = ddp_->last_stats();
        ++stats_.backwards;
        stats_.buckets += s.buckets;
        stats_.bytes += s.bytes;
        stats_.started_during_backward += s.buckets_started_during_backward;
        stats_.wait_seconds += s.wait_seconds;
      }
      return;
    }
#endif
    loss.backward();
  }

  // The mean of `value` over the ranks (every rank must call it).
  double mean(double value) const {
#ifdef XGRAD_EXAMPLES_MPI
    if (world_ > 1) {
      xg::Tensor t = xg::full({1}, value, xg::kFloat64);
      xg::distributed::all_reduce(t, xg::distributed::ReduceOp::Avg);
      return t.item();
    }
#endif
    return value;
  }
  // The sum of an Int64 tensor over the ranks, in place.
  void sum([[maybe_unused]] xg::Tensor& counts) const {
#ifdef XGRAD_EXAMPLES_MPI
    if (world_ > 1) xg::distributed::all_reduce(counts, xg::distributed::ReduceOp::Sum);
#endif
  }
  // Every rank's `tensor` (a 1-D state, the same length on every rank), in rank order.
  std::vector<xg::Tensor> gather(const xg::Tensor& tensor) const {
#ifdef XGRAD_EXAMPLES_MPI
    if (world_ > 1) {
      std::vector<xg::Tensor> all;
      xg::distributed::all_gather(all, tensor);
      return all;
    }
#endif
    return {tensor};
  }

  // What the synchronised backwards have done so far, summed (zeros with one rank).
  struct Stats {
    std::int64_t backwards = 0, buckets = 0, bytes = 0, started_during_backward = 0;
    double wait_seconds = 0;
  };
  const Stats& stats() const { return stats_; }

 private:
  int rank_ = 0, world_ = 1;
  Stats stats_;
#ifdef XGRAD_EXAMPLES_MPI
  std::shared_ptr<xg::nn::parallel::DistributedDataParallel> ddp_;
#endif
};

}  // namespace examples
