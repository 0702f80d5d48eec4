// Data-parallel training, as PyTorch's torch.nn.parallel.DistributedDataParallel: every rank
// holds the same model, runs it on its own part of the batch, and during backward the gradients
// are averaged across the ranks, so every rank's optimizer takes the same step. Part of
// xgrad::distributed; #include <xgrad/distributed/ddp.hpp>.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "../nn/module.hpp"

namespace xg::nn::parallel {

struct DistributedDataParallelOptions {
  // Gradients travel in buckets of about this many megabytes (MB = 2^20 bytes), each all-reduced
  // as soon as its last gradient is computed, while backward goes on (PyTorch's default: 25).
  DistributedDataParallelOptions& bucket_cap_mb(double mb) {
    bucket_cap_mb_ = mb;
    return *this;
  }
  // Parameters that get no gradient in a backward (unused by the forward on some rank) take part
  // as zeros; without it such a backward throws. A parameter unused on every rank keeps an
  // undefined gradient, as in PyTorch.
  DistributedDataParallelOptions& find_unused_parameters(bool on) {
    find_unused_parameters_ = on;
    return *this;
  }
  // Rank 0's buffers are broadcast before every forward (PyTorch's default).
  DistributedDataParallelOptions& broadcast_buffers(bool on) {
    broadcast_buffers_ = on;
    return *this;
  }
  double bucket_cap_mb() const { return bucket_cap_mb_; }
  bool find_unused_parameters() const { return find_unused_parameters_; }
  bool broadcast_buffers() const { return broadcast_buffers_; }

 private:
  double bucket_cap_mb_ = 25.0;
  bool find_unused_parameters_ = false;
  bool broadcast_buffers_ = true;
};

// Wraps `module` (its parameters are then named "module.<name>", as PyTorch's). When built, it
// broadcasts rank 0's parameters and buffers to every rank (so every rank starts equal), and
// checks that every rank's module has the same parameters. Every rank must call backward on the
// output the same number of times. The process group must be initialized.
class DistributedDataParallel : public Module {
 public:
  explicit DistributedDataParallel(std::shared_ptr<Module> module,
                                   const DistributedDataParallelOptions& options = {});
  ~DistributedDataParallel() override;

  Tensor forward(const Tensor& input) override;

  // While the guard lives, backward only accumulates into the local .grad (gradient
  // accumulation, as PyTorch's `with ddp.no_sync():`); the first backward after it averages the
  // accumulated gradients.
  class NoSyncGuard {
   public:
    explicit NoSyncGuard(DistributedDataParallel& ddp);
    ~NoSyncGuard();
    NoSyncGuard(const NoSyncGuard&) = delete;
    NoSyncGuard& operator=(const NoSyncGuard&) = delete;

   private:
    DistributedDataParallel& ddp_;
    bool previous_;
  };
  NoSyncGuard no_sync() { return NoSyncGuard(*this); }

  // What the last synchronised backward did, to measure it: the buckets, the bytes each rank
  // gave to all-reduces, the buckets started before the backward's last gradient arrived (their
  // communication could overlap the rest of the backward), and the seconds spent waiting for
  // the all-reduces at the end of the backward.
  struct Stats {
    std::int64_t buckets = 0;
    std::int64_t bytes = 0;
    std::int64_t buckets_started_during_backward = 0;
    double wait_seconds = 0;
  };
  const Stats& last_stats() const;
  std::int64_t num_buckets() const;

  std::shared_ptr<Module> module;

 private:
  struct Reducer;
  std::shared_ptr<Reducer> reducer_;  // the parameters' hooks hold it weakly
  DistributedDataParallelOptions options_;
};

}  // namespace xg::nn::parallel
