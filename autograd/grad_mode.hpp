// Grad mode: whether ops record the graph on this thread (xg::NoGradGuard turns it off).
#pragma once

namespace xg {

// Whether ops record the graph on this thread (on unless turned off), as torch's grad mode.
struct GradMode {
  static bool is_enabled();
  static void set_enabled(bool enabled);
};

// Turns recording off on this thread for its lifetime, then restores the previous mode.
class NoGradGuard {
 public:
  NoGradGuard() : previous_(GradMode::is_enabled()) { GradMode::set_enabled(false); }
  ~NoGradGuard() { GradMode::set_enabled(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

}  // namespace xg
