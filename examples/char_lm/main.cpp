// The char_lm example's command line: see char_lm.cpp for the model and its training.
#include <CLI/CLI.hpp>
#include <iostream>

#include "char_lm.hpp"
#include "data_parallel.hpp"
#include "number_flags.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "Train a character-level language model in the style of Bengio et al. 2003 on a list of "
      "words: the previous 3 characters -> Embedding -> tanh layer -> logits over '.' and a-z, "
      "with cross_entropy and AdamW on mini-batches. Prints the train and validation loss as "
      "it goes, then samples new words."};
  app.footer(
      "Under mpirun -np N every rank trains on its shard of each epoch's batches "
      "(DistributedSampler), the gradients averaged over the ranks, and rank 0 alone "
      "evaluates, prints and saves.");
  char_lm::Options opts;
  app.add_option("--data", opts.data,
                 "file of one word per line; words are lowercased, and those with anything but "
                 "letters a-z dropped")
      ->capture_default_str();
  examples::add_whole_number(app, "--seed", opts.seed,
                             "seed for the train/validation split, the initial weights, the "
                             "batches and the samples",
                             0)
      ->capture_default_str();
  examples::add_whole_number(app, "--steps", opts.steps,
                             "total number of AdamW steps; a resumed run continues up to it", 0)
      ->capture_default_str();
  examples::add_whole_number(app, "--batch-size", opts.batch_size, "examples per mini-batch", 1)
      ->capture_default_str();
  examples::add_positive_number(app, "--lr", opts.lr,
                                "peak learning rate, decayed along a cosine to lr / 20")
      ->capture_default_str();
  examples::add_whole_number(app, "--emb", opts.emb, "embedding size of a character", 1)
      ->capture_default_str();
  examples::add_whole_number(app, "--hidden", opts.hidden, "width of the tanh layer", 1)
      ->capture_default_str();
  examples::add_whole_number(app, "--eval-every", opts.eval_every,
                             "steps between evaluations on the whole validation set", 1)
      ->capture_default_str();
  app.add_option("--save", opts.save,
                 "write a checkpoint (model, optimizer and step) here at every evaluation");
  app.add_option("--resume", opts.resume,
                 "continue from a checkpoint written by --save; give the same --data, --seed, "
                 "--emb, --hidden and --steps")
      ->check(CLI::ExistingFile);
  CLI11_PARSE(app, argc, argv);

  // Under mpirun, every rank trains on its own shard of the batches and rank 0 prints and saves;
  // an error on any rank ends the whole job with its message.
  return examples::run_main("char_lm", [&] { char_lm::run(opts, std::cout); });
}
