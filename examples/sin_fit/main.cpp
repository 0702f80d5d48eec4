// The sin-fit example's command line: see sin_fit.cpp for the training loops.
#include <CLI/CLI.hpp>
#include <iostream>

#include "sin_fit.hpp"

int main(int argc, char** argv) {
  CLI::App app{"Fit y = a + b x + c x^2 + d x^3 to sin(x) on [-pi, pi] by gradient descent."};
  sin_fit::Options opts;
  std::string dtype = "float32";
  app.add_option("--mode", opts.mode, "how gradients are computed")
      ->check(CLI::IsMember({"manual", "autograd", "sgd", "adamw"}))
      ->capture_default_str();
  app.add_option("--dtype", dtype, "element type")
      ->check(CLI::IsMember({"float32", "float64"}))
      ->capture_default_str();
  app.add_option("--seed", opts.seed, "seed for the initial draw of a, b, c, d")
      ->capture_default_str();
  app.add_option("--steps", opts.steps, "number of gradient-descent steps")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_flag("--check", opts.check,
               "fail if an autograd gradient differs from the hand-derived one");
  CLI11_PARSE(app, argc, argv);
  opts.dtype = dtype == "float64" ? xg::kFloat64 : xg::kFloat32;

  try {
    sin_fit::run(opts, std::cout);
  } catch (const std::exception& e) {
    std::cerr << "sin_fit: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
