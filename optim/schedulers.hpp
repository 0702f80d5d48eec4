// Learning-rate schedulers, as torch.optim.lr_scheduler: each step() sets every group's lr from
// its initial lr by the scheduler's closed-form formula.
#pragma once

#include <cstdint>
#include <vector>

#include "optimizer.hpp"

namespace xg::optim {

// The base of every scheduler: remembers each group's lr at construction as its base_lr.
class LRScheduler {
 public:
  virtual ~LRScheduler() = default;
  // Advances one epoch (or step) and sets every group's lr.
  void step();
  std::vector<double> get_last_lr() const { return last_lr_; }  // each group's lr, as last set
  std::int64_t last_epoch() const { return last_epoch_; }       // step() calls so far

 protected:
  explicit LRScheduler(Optimizer& optimizer);
  // The lr of a group whose initial lr is base_lr, at `epoch`.
  virtual double lr_at(double base_lr, std::int64_t epoch) const = 0;
  // Sets the lrs of epoch 0; derived constructors call it once their members are set.
  void start();

 private:
  void apply(std::int64_t epoch);  // sets every group's lr for `epoch`
  Optimizer& optimizer_;
  std::vector<double> base_lrs_;
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

}  // namespace xg::optim
