#include "schedulers.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>
#include <string>

#include "../tensor/check.hpp"

namespace xg::optim {

LRScheduler::LRScheduler(Optimizer& optimizer) : optimizer_(optimizer) {}

std::vector<double> LRScheduler::initial_lrs() const {
  std::vector<double> lrs;
  for (const auto& group : optimizer_.param_groups()) {
    lrs.push_back(group.has_initial_lr() ? group.initial_lr() : group.options().get_lr());
  }
  return lrs;
}

std::vector<double> LRScheduler::current_lrs() const {
  std::vector<double> lrs;
  for (const auto& group : optimizer_.param_groups()) lrs.push_back(group.options().get_lr());
  return lrs;
}

void LRScheduler::start() {
  const std::vector<double> initial = initial_lrs();
  const std::vector<double> base = starts_from_current_lr() ? current_lrs() : initial;
  base_lrs_ = base;
  const std::vector<double> lrs = lrs_at(base, last_epoch_);  // a lambda may throw: no change
  auto& groups = optimizer_.param_groups();
  for (std::size_t g = 0; g < groups.size(); ++g) {
    if (!groups[g].has_initial_lr()) groups[g].set_initial_lr(initial[g]);
  }
  set_lrs(lrs);
}

double LRScheduler::group_lr_at(std::size_t /*group*/, double base_lr, std::int64_t epoch) const {
  return lr_at(base_lr, epoch);
}

void LRScheduler::step() {
  apply(last_epoch_ + 1);
  ++last_epoch_;  // only once the lrs are set: a step that throws changes nothing
}

std::vector<double> LRScheduler::lrs_at(const std::vector<double>& base_lrs,
                                        std::int64_t epoch) const {
  const auto& groups = optimizer_.param_groups();
  XG_CHECK_STATE(groups.size() == base_lrs_.size(), "LRScheduler: the optimizer had ",
                 base_lrs_.size(), " parameter groups when the scheduler was made and has ",
                 groups.size(), " now");
  std::vector<double> lrs;
  for (std::size_t g = 0; g < base_lrs.size(); ++g)
    lrs.push_back(group_lr_at(g, base_lrs[g], epoch));
  return lrs;
}

void LRScheduler::set_lrs(const std::vector<double>& lrs) {
  auto& groups = optimizer_.param_groups();
  for (std::size_t g = 0; g < groups.size(); ++g) groups[g].options().set_lr(lrs[g]);
  last_lr_ = lrs;
}

void LRScheduler::apply(std::int64_t epoch) { set_lrs(lrs_at(base_lrs_, epoch)); }

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

LambdaLR::LambdaLR(Optimizer& optimizer, LrLambda lr_lambda)
    : LambdaLR(optimizer,
               std::vector<LrLambda>(optimizer.param_groups().size(), std::move(lr_lambda))) {}

LambdaLR::LambdaLR(Optimizer& optimizer, std::vector<LrLambda> lr_lambdas)
    : LRScheduler(optimizer), lr_lambdas_(std::move(lr_lambdas)) {
  const std::size_t groups = optimizer.param_groups().size();
  XG_CHECK_ARG(lr_lambdas_.size() == groups, "LambdaLR: expected ", groups,
               " lr_lambdas (one per parameter group), got ", lr_lambdas_.size());
  for (std::size_t g = 0; g < groups; ++g) {
    XG_CHECK_ARG(static_cast<bool>(lr_lambdas_[g]), "LambdaLR: lr_lambda ", g,
                 " is an empty std::function");
  }
  start();
}

double LambdaLR::lr_at(double base_lr, std::int64_t epoch) const {
  return group_lr_at(0, base_lr, epoch);
}

double LambdaLR::group_lr_at(std::size_t group, double base_lr, std::int64_t epoch) const {
  return base_lr * lr_lambdas_[group](epoch);
}

namespace {
// Python's bisect.bisect_right, which SequentialLR runs on its milestones as given (PyTorch
// neither sorts nor checks them): the same binary search, so unsorted milestones pick the same
// scheduler as in PyTorch.
std::size_t bisect_right(const std::vector<std::int64_t>& a, std::int64_t x) {
  std::size_t lo = 0, hi = a.size();
  while (lo < hi) {
    const std::size_t mid = (lo + hi) / 2;
    if (x < a[mid]) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  return lo;
}
}  // namespace

SequentialLR::SequentialLR(Optimizer& optimizer,
                           std::vector<std::shared_ptr<LRScheduler>> schedulers,
                           std::vector<std::int64_t> milestones)
    : LRScheduler(optimizer),
      schedulers_(std::move(schedulers)),
      milestones_(std::move(milestones)) {
  for (std::size_t i = 0; i < schedulers_.size(); ++i) {
    XG_CHECK_ARG(schedulers_[i] != nullptr, "SequentialLR: scheduler ", i, " is null");
    XG_CHECK_ARG(dynamic_cast<const SequentialLR*>(schedulers_[i].get()) == nullptr,
                 "SequentialLR: scheduler ", i, " is a SequentialLR; they cannot be nested");
    XG_CHECK_ARG(&schedulers_[i]->optimizer_ == &optimizer,
                 "SequentialLR: expects all schedulers to belong to the same optimizer, but "
                 "scheduler ",
                 i, " belongs to another optimizer than the one passed in");
  }
  XG_CHECK_ARG(milestones_.size() + 1 == schedulers_.size(),
               "SequentialLR: expects one scheduler more than milestones, but got ",
               schedulers_.size(), " schedulers and ", milestones_.size(), " milestones");
  // PyTorch resets every lr to its initial lr, moves every scheduler back one epoch (one listed
  // twice moves back twice) and steps the first one again, which so runs from the initial lrs.
  LRScheduler& first = *schedulers_.front();
  std::int64_t first_epoch = first.last_epoch_;
  for (const auto& s : schedulers_) {
    if (s.get() == &first) --first_epoch;
  }
  ++first_epoch;
  std::vector<double> base_lrs = first.initial_lrs();
  const std::vector<double> lrs = first.lrs_at(base_lrs, first_epoch);  // may throw
  for (const auto& s : schedulers_) --s->last_epoch_;
  first.base_lrs_ = std::move(base_lrs);
  first.last_epoch_ = first_epoch;
  first.set_lrs(lrs);
  last_lr_ = lrs;
}

void SequentialLR::step() {
  const std::int64_t epoch = last_epoch_ + 1;
  const std::size_t idx = bisect_right(milestones_, epoch);
  LRScheduler& s = *schedulers_[idx];
  const bool restart = idx > 0 && milestones_[idx - 1] == epoch;  // PyTorch's step(0)
  const std::int64_t child_epoch = restart ? 0 : s.last_epoch_ + 1;
  std::vector<double> base_lrs = s.base_lrs_;
  if (restart) {
    base_lrs = s.initial_lrs();  // PyTorch's closed form, from the initial lrs
  } else if (s.last_epoch_ == -1 && s.starts_from_current_lr()) {
    // A scheduler that starts without its milestone (one <= 0) takes its first step in
    // PyTorch's chainable form, from the lr the previous scheduler set: it runs from there.
    base_lrs = s.current_lrs();
  }
  const std::vector<double> lrs = s.lrs_at(base_lrs, child_epoch);  // may throw: nothing changed
  s.base_lrs_ = std::move(base_lrs);
  s.last_epoch_ = child_epoch;
  s.set_lrs(lrs);
  last_lr_ = lrs;
  last_epoch_ = epoch;
}

double SequentialLR::lr_at(double base_lr, std::int64_t /*epoch*/) const { return base_lr; }

}  // namespace xg::optim
