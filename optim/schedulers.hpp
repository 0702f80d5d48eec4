// Learning-rate schedulers, as torch.optim.lr_scheduler: each step() sets every group's lr from
// its initial lr by the scheduler's closed-form formula. SequentialLR runs several in turn.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "optimizer.hpp"

namespace xg::optim {

class SequentialLR;

// The base of every scheduler. The first scheduler made on an optimizer records each group's lr
// as the group's initial lr (PyTorch's group["initial_lr"]). A scheduler runs from the groups'
// lrs when it is made, as PyTorch's chainable forms do: from the initial lrs for the first
// scheduler, from the lrs the others left for a later one (LambdaLR always from the initial
// lrs). A SequentialLR restarts its schedulers from the initial lrs.
class LRScheduler {
 public:
  virtual ~LRScheduler() = default;
  // Advances one epoch (or step) and sets every group's lr.
  virtual void step();
  std::vector<double> get_last_lr() const { return last_lr_; }  // each group's lr, as last set
  // step() calls so far; a scheduler in a SequentialLR counts its own (-1 until it starts).
  std::int64_t last_epoch() const { return last_epoch_; }

 protected:
  explicit LRScheduler(Optimizer& optimizer);
  // The lr of a group whose schedule runs from base_lr, at `epoch`.
  virtual double lr_at(double base_lr, std::int64_t epoch) const = 0;
  // The lr of group `group`; lr_at unless a scheduler treats groups differently (LambdaLR).
  virtual double group_lr_at(std::size_t group, double base_lr, std::int64_t epoch) const;
  // Whether the schedule runs from the groups' current lrs when made (PyTorch's chainable
  // form: every built-in scheduler but LambdaLR) rather than from their initial lrs.
  virtual bool starts_from_current_lr() const { return true; }
  // Records the initial lrs and sets the lrs of epoch 0; derived constructors call it once
  // their members are set and checked.
  void start();

 private:
  friend class SequentialLR;
  // Each group's initial lr (its current lr if no scheduler recorded one) or current lr.
  std::vector<double> initial_lrs() const;
  std::vector<double> current_lrs() const;
  // Every group's lr at `epoch` from `base_lrs`, changing nothing; throws when the optimizer's
  // groups changed since construction.
  std::vector<double> lrs_at(const std::vector<double>& base_lrs, std::int64_t epoch) const;
  void set_lrs(const std::vector<double>& lrs);  // sets every group's lr and last_lr
  void apply(std::int64_t epoch);                // both, from base_lrs_
  Optimizer& optimizer_;
  std::vector<double> base_lrs_;  // the lrs the schedule runs from
  std::vector<double> last_lr_;
  std::int64_t last_epoch_ = 0;
};

// lr = base_lr * gamma^floor(epoch / step_size)
class StepLR : public LRScheduler {
 public:
  StepLR(Optimizer& optimizer, std::int64_t step_size, double gamma = 0.1);

 protected:
  double lr_at(double base_lr, std::int64_t epoch) const override;

 private:
  std::int64_t step_size_;
  double gamma_;
};

// lr = base_lr * gamma^(number of milestones <= epoch)
class MultiStepLR : public LRScheduler {
 public:
  MultiStepLR(Optimizer& optimizer, std::vector<std::int64_t> milestones, double gamma = 0.1);

 protected:
  double lr_at(double base_lr, std::int64_t epoch) const override;

 private:
  std::vector<std::int64_t> milestones_;
  double gamma_;
};

// lr = base_lr * gamma^epoch
class ExponentialLR : public LRScheduler {
 public:
  ExponentialLR(Optimizer& optimizer, double gamma);

 protected:
  double lr_at(double base_lr, std::int64_t epoch) const override;

 private:
  double gamma_;
};

// lr = eta_min + (base_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2
class CosineAnnealingLR : public LRScheduler {
 public:
  CosineAnnealingLR(Optimizer& optimizer, std::int64_t T_max, double eta_min = 0.0);

 protected:
  double lr_at(double base_lr, std::int64_t epoch) const override;

 private:
  std::int64_t t_max_;
  double eta_min_;
};

// lr = base_lr * (start_factor + (end_factor - start_factor) * min(epoch, total_iters) /
// total_iters)
class LinearLR : public LRScheduler {
 public:
  LinearLR(Optimizer& optimizer, double start_factor = 1.0 / 3, double end_factor = 1.0,
           std::int64_t total_iters = 5);

 protected:
  double lr_at(double base_lr, std::int64_t epoch) const override;

 private:
  double start_factor_, end_factor_;
  std::int64_t total_iters_;
};

// The lr of an epoch as a function of the epoch: LambdaLR's factor.
using LrLambda = std::function<double(std::int64_t)>;

// lr = base_lr * lr_lambda(epoch); with one lambda per parameter group, each group's own.
class LambdaLR : public LRScheduler {
 public:
  LambdaLR(Optimizer& optimizer, LrLambda lr_lambda);
  LambdaLR(Optimizer& optimizer, std::vector<LrLambda> lr_lambdas);

 protected:
  double lr_at(double base_lr, std::int64_t epoch) const override;  // group 0's lambda
  double group_lr_at(std::size_t group, double base_lr, std::int64_t epoch) const override;
  bool starts_from_current_lr() const override { return false; }

 private:
  std::vector<LrLambda> lr_lambdas_;
};

// Runs schedulers one after another, as torch.optim.lr_scheduler.SequentialLR in PyTorch 1.13:
// schedulers[i] runs from milestones[i - 1] on (milestones are global epochs), and at each
// milestone the next scheduler restarts at its own epoch 0 (PyTorch's step(0)). Construction
// undoes the construction step of every scheduler and redoes the first one's. Every scheduler
// must be made on `optimizer`; they are shared, so the caller may keep them.
class SequentialLR : public LRScheduler {
 public:
  SequentialLR(Optimizer& optimizer, std::vector<std::shared_ptr<LRScheduler>> schedulers,
               std::vector<std::int64_t> milestones);
  void step() override;

 protected:
  double lr_at(double base_lr, std::int64_t epoch) const override;  // never called

 private:
  std::vector<std::shared_ptr<LRScheduler>> schedulers_;
  std::vector<std::int64_t> milestones_;
};

}  // namespace xg::optim
