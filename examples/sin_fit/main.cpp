// The sin-fit example's command line: see sin_fit.hpp for the modes.
#include <CLI/CLI.hpp>
#include <iostream>

#include "number_flags.hpp"
#include "sin_fit.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "Fit y = sin(x) on [-pi, pi] with a cubic by gradient descent, in the modes of "
      "PyTorch's \"Learning PyTorch with Examples\"."};
  sin_fit::Options opts;
  std::string dtype = "float32";
  app.add_option("--mode", opts.mode,
                 "manual (hand-derived gradients), autograd, sgd, adamw, function (custom "
                 "autograd Function), module, nn (Linear), dynamic (DynamicNet)")
      ->check(CLI::IsMember(
          {"manual", "autograd", "sgd", "adamw", "function", "module", "nn", "dynamic"}))
      ->capture_default_str();
  app.add_option("--dtype", dtype, "element type")
      ->check(CLI::IsMember({"float32", "float64"}))
      ->capture_default_str();
  examples::add_whole_number(app, "--seed", opts.seed, "seed for the initial draw of the weights",
                             0)
      ->capture_default_str();
  examples::add_whole_number(app, "--steps", opts.steps,
                             "number of steps in all (default: 2000, 30000 for dynamic); with "
                             "--resume, training continues up to this step",
                             0);
  app.add_flag("--check", opts.check,
               "autograd, sgd, adamw: fail if a gradient differs from the hand-derived one");
  app.add_option("--save", opts.save, "write a checkpoint (model, optimizer, step) at the end");
  app.add_option("--resume", opts.resume, "continue from a checkpoint written by --save")
      ->check(CLI::ExistingFile);
  app.add_option("--plot", opts.plot, "write an SVG figure of the fit and the loss curve");
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
