#include "schedulers.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>

#include "../tensor/check.hpp"

namespace xg::optim {

LRScheduler::LRScheduler(Optimizer& optimizer) : optimizer_(optimizer) {
  for (const auto& group : optimizer_.param_groups()) base_lrs_.push_back(group.options().get_lr());
}

void LRScheduler::start() { apply(last_epoch_); }

void LRScheduler::step() {
  apply(last_epoch_ + 1);
  ++last_epoch_;  // only once the lrs are set: a step that throws changes nothing
}

void LRScheduler::apply(std::int64_t epoch) {
  auto& groups = optimizer_.param_groups();
  XG_CHECK_STATE(groups.size() == base_lrs_.size(), "LRScheduler: the optimizer had ",
                 base_lrs_.size(), " parameter groups when the scheduler was made and has ",
                 groups.size(), " now");
  last_lr_.clear();
  for (std::size_t g = 0; g < groups.size(); ++g) {
    const double lr = lr_at(base_lrs_[g], epoch);
    groups[g].options().set_lr(lr);
    last_lr_.push_back(lr);
  }
}

StepLR::StepLR(Optimizer& optimizer, std::int64_t step_size, double gamma)
    : LRScheduler(optimizer), step_size_(step_size), gamma_(gamma) {
  XG_CHECK_ARG(step_size > 0, "StepLR: step_size must be > 0, got ", step_size);
  start();
}

double StepLR::lr_at(double base_lr, std::int64_t epoch) const {
  return base_lr * std::pow(gamma_, static_cast<double>(epoch / step_size_));
}

MultiStepLR::MultiStepLR(Optimizer& optimizer, std::vector<std::int64_t> milestones, double gamma)
    : LRScheduler(optimizer), milestones_(std::move(milestones)), gamma_(gamma) {
  std::sort(milestones_.begin(), milestones_.end());  // any order, as PyTorch's Counter takes
  start();
}

double MultiStepLR::lr_at(double base_lr, std::int64_t epoch) const {
  const auto passed =
      std::upper_bound(milestones_.begin(), milestones_.end(), epoch) - milestones_.begin();
  return base_lr * std::pow(gamma_, static_cast<double>(passed));
}

ExponentialLR::ExponentialLR(Optimizer& optimizer, double gamma)
    : LRScheduler(optimizer), gamma_(gamma) {
  start();
}

double ExponentialLR::lr_at(double base_lr, std::int64_t epoch) const {
  return base_lr * std::pow(gamma_, static_cast<double>(epoch));
}

CosineAnnealingLR::CosineAnnealingLR(Optimizer& optimizer, std::int64_t T_max, double eta_min)
    : LRScheduler(optimizer), t_max_(T_max), eta_min_(eta_min) {
  XG_CHECK_ARG(T_max > 0, "CosineAnnealingLR: T_max must be > 0, got ", T_max);
  start();
}

double CosineAnnealingLR::lr_at(double base_lr, std::int64_t epoch) const {
  const double angle = std::numbers::pi * static_cast<double>(epoch) / static_cast<double>(t_max_);
  return eta_min_ + (base_lr - eta_min_) * (1 + std::cos(angle)) / 2;
}

LinearLR::LinearLR(Optimizer& optimizer, double start_factor, double end_factor,
                   std::int64_t total_iters)
    : LRScheduler(optimizer),
      start_factor_(start_factor),
      end_factor_(end_factor),
      total_iters_(total_iters) {
  XG_CHECK_ARG(start_factor > 0 && start_factor <= 1,
               "LinearLR: start_factor must be in (0, 1], got ", xg::detail::fixed6(start_factor));
  XG_CHECK_ARG(end_factor >= 0 && end_factor <= 1, "LinearLR: end_factor must be in [0, 1], got ",
               xg::detail::fixed6(end_factor));
  XG_CHECK_ARG(total_iters > 0, "LinearLR: total_iters must be > 0, got ", total_iters);
  start();
}

double LinearLR::lr_at(double base_lr, std::int64_t epoch) const {
  const double progress =
      static_cast<double>(std::min(epoch, total_iters_)) / static_cast<double>(total_iters_);
  return base_lr * (start_factor_ + (end_factor_ - start_factor_) * progress);
}

}  // namespace xg::optim
