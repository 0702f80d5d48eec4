// The spiral example's command line: see spiral.cpp for the model and its training.
#include <CLI/CLI.hpp>
#include <iostream>

#include "number_flags.hpp"
#include "spiral.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "Train an MLP, Linear(2, hidden) -> ReLU -> Linear(hidden, 3), to classify a generated "
      "3-class spiral (300 points per class) with cross_entropy and AdamW, full-batch."};
  spiral::Options opts;
  examples::add_whole_number(app, "--seed", opts.seed,
                             "seed for the points and the initial weights", 0)
      ->capture_default_str();
  examples::add_whole_number(app, "--steps", opts.steps, "number of full-batch AdamW steps", 0)
      ->capture_default_str();
  examples::add_whole_number(app, "--hidden", opts.hidden, "width of the hidden layer", 1)
      ->capture_default_str();
  examples::add_positive_number(app, "--lr", opts.lr, "AdamW learning rate")->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  try {
    spiral::run(opts, std::cout);
  } catch (const std::exception& e) {
    std::cerr << "spiral: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
