// The gpt example's command line: see gpt.cpp for the model and its training.
#include <CLI/CLI.hpp>
#include <iostream>

#include "data_parallel.hpp"
#include "gpt.hpp"
#include "number_flags.hpp"

#ifndef GPT_DEFAULT_DATA
#define GPT_DEFAULT_DATA "data/tinyshakespeare.txt"
#endif

int main(int argc, char** argv) {
  CLI::App app{
      "Train a small character-level GPT as karpathy/nanoGPT's shakespeare_char recipe for a CPU "
      "does (its model.py and train.py; the defaults are the recipe), print the train and "
      "validation loss at each evaluation, the time per iteration, and the final model's loss "
      "on the whole validation split; then sample text if asked."};
  app.footer(
      "Under mpirun -np N (one machine, or several from a host file) every rank trains on its "
      "own --batch-size windows a batch, the gradients averaged over the ranks, and rank 0 "
      "alone evaluates, prints and saves: the run follows the one that a single process with "
      "--gradient-accumulation-steps N would (docs/guide.md, section 11).");
  gpt::Options opts;
  opts.data = {GPT_DEFAULT_DATA};
  constexpr auto i64_max = std::numeric_limits<std::int64_t>::max();
  app.add_option("--data", opts.data,
                 "FILE or FILE:EPOCHS, a text: the first 90% trains, the last 10% validates; its "
                 "sorted set of characters is the vocabulary. Given several times, a data "
                 "mixture: the vocabulary is every text's characters, each training window comes "
                 "from one text with probability EPOCHS x its training characters over the sum "
                 "of those (EPOCHS 1 when not given), so a text is seen about EPOCHS times "
                 "relative to the others; when the budgets ask for more or fewer tokens than "
                 "the run draws ((max-iters + 1) x batch-size x block-size), all are scaled by "
                 "the same factor, which the run prints. EPOCHS 0: only evaluated. The losses "
                 "are given per text and weighted")
      ->capture_default_str()
      ->expected(1, 1 << 20);
  examples::add_whole_number(app, "--seed", opts.seed,
                             "seed of the initial weights; seed + 1, + 2, + 3 and + 4 seed the "
                             "training batches, the evaluation batches, dropout and sampling",
                             0)
      ->capture_default_str();
  // The model (with --resume, the checkpoint's architecture is used instead).
  examples::add_whole_number(app, "--block-size", opts.model.block_size,
                             "context length in characters", 1, i64_max)
      ->capture_default_str();
  examples::add_whole_number(app, "--n-layer", opts.model.n_layer, "transformer blocks", 1)
      ->capture_default_str();
  examples::add_whole_number(app, "--n-head", opts.model.n_head, "attention heads per block", 1)
      ->capture_default_str();
  examples::add_whole_number(app, "--n-embd", opts.model.n_embd,
                             "embedding width (a multiple of --n-head)", 1)
      ->capture_default_str();
  examples::add_number_in(app, "--dropout", opts.model.dropout,
                          "dropout probability (embeddings, attention weights, residuals)", 0, 1,
                          true)
      ->capture_default_str();
  app.add_flag("--bias,!--no-bias", opts.model.bias, "biases in the Linear and LayerNorm layers")
      ->capture_default_str();
  // Training.
  examples::add_whole_number(app, "--batch-size", opts.batch_size, "windows per batch", 1)
      ->capture_default_str();
  examples::add_whole_number(app, "--gradient-accumulation-steps", opts.gradient_accumulation_steps,
                             "batches each process draws and backpropagates per iteration, their "
                             "gradients summed before the step: an iteration trains on ranks x "
                             "this x --batch-size windows (under mpirun -np N, ranks is N)",
                             1)
      ->capture_default_str();
  examples::add_whole_number(app, "--max-iters", opts.max_iters,
                             "last iteration: iterations 0 to max-iters each take one AdamW step",
                             0)
      ->capture_default_str();
  examples::add_positive_number(app, "--bucket-cap-mb", opts.bucket_cap_mb,
                                "under mpirun, the gradients are averaged in buckets of about "
                                "this many megabytes (2^20 bytes), each sent as soon as its "
                                "gradients are computed (DistributedDataParallel's bucket_cap_mb)")
      ->capture_default_str();
  examples::add_positive_number(app, "--learning-rate", opts.learning_rate, "peak learning rate")
      ->capture_default_str();
  examples::add_number_in(app, "--min-lr", opts.min_lr, "learning rate at the end of the cosine", 0,
                          1e300)
      ->capture_default_str();
  examples::add_whole_number(app, "--warmup-iters", opts.warmup_iters,
                             "linear warmup: lr (it + 1) / (warmup + 1) before it", 0)
      ->capture_default_str();
  examples::add_whole_number(app, "--lr-decay-iters", opts.lr_decay_iters,
                             "the cosine from the peak reaches --min-lr here", 1)
      ->capture_default_str();
  app.add_flag("--decay-lr,!--no-decay-lr", opts.decay_lr,
               "warmup and cosine decay (else a constant --learning-rate)")
      ->capture_default_str();
  examples::add_number_in(app, "--weight-decay", opts.weight_decay,
                          "AdamW's decoupled weight decay on the parameters of 2 or more dims", 0,
                          1e300)
      ->capture_default_str();
  examples::add_number_in(app, "--beta1", opts.beta1, "AdamW's beta1", 0, 1, true)
      ->capture_default_str();
  examples::add_number_in(app, "--beta2", opts.beta2, "AdamW's beta2", 0, 1, true)
      ->capture_default_str();
  examples::add_number_in(app, "--grad-clip", opts.grad_clip,
                          "clip the gradients' total L2 norm to this (0: no clipping)", 0, 1e300)
      ->capture_default_str();
  examples::add_whole_number(app, "--eval-interval", opts.eval_interval,
                             "iterations between evaluations (each before that iteration's step)",
                             1)
      ->capture_default_str();
  examples::add_whole_number(app, "--eval-iters", opts.eval_iters,
                             "batches of each split per evaluation", 1)
      ->capture_default_str();
  examples::add_whole_number(app, "--log-interval", opts.log_interval,
                             "print the training loss every this many iterations (0: never)", 0)
      ->capture_default_str();
  app.add_flag("--full-eval,!--no-full-eval", opts.full_eval,
               "score the final model on every window of the validation split")
      ->capture_default_str();
  // Checkpoints.
  app.add_option("--save", opts.save,
                 "write a checkpoint (model, optimizer, iteration, random states, vocabulary and "
                 "architecture) here at each evaluation and at the end");
  app.add_option("--resume", opts.resume,
                 "continue from a checkpoint written by --save (the same --data and --seed; the "
                 "architecture comes from the checkpoint): the run goes on exactly as the "
                 "uninterrupted one")
      ->check(CLI::ExistingFile);
  app.add_option("--init-from", opts.init_from,
                 "start a new run from the model weights of a checkpoint written by --save "
                 "(nanoGPT's init_from), with a new optimizer and schedule from iteration 0; "
                 "the architecture and vocabulary are the checkpoint's. Characters of --data "
                 "outside its vocabulary are counted, reported, and map to one reserved id "
                 "added as the last (the character SUB, 0x1a, when sampled); its embedding "
                 "row starts as a new model's")
      ->check(CLI::ExistingFile);
  app.add_option("--freeze", opts.freeze,
                 "keep the parameters whose name matches this glob fixed (fnmatch; names as "
                 "transformer.h.0.attn.c_attn.weight, so transformer.h.0.* is the first block); "
                 "may be given several times. A tied weight is one tensor: matching one of its "
                 "names (lm_head.weight, transformer.wte.weight) freezes it, and the run says "
                 "so. A --resume run keeps the checkpoint's")
      ->expected(1, 1 << 20);
  app.add_option("--export-check", opts.export_check,
                 "after training, write the first validation windows, the model's logits and "
                 "loss on them to this file (for check_pytorch.py)");
  // Sampling.
  examples::add_whole_number(app, "--sample", opts.sample,
                             "characters to generate after training (0: none)", 0)
      ->capture_default_str();
  app.add_option("--prompt", opts.prompt, "text the samples continue")->capture_default_str();
  examples::add_positive_number(app, "--temperature", opts.temperature,
                                "divides the logits before softmax (< 1: more conservative)")
      ->capture_default_str();
  examples::add_whole_number(app, "--top-k", opts.top_k,
                             "sample among the k most likely characters (0: all)", 0)
      ->capture_default_str();
  app.add_flag("--sample-only", opts.sample_only,
               "no training: sample from the --resume checkpoint alone (no data needed), or from "
               "a fresh model");
  CLI11_PARSE(app, argc, argv);

  // Under mpirun, every rank trains on its own batches and rank 0 prints and saves; an error on
  // any rank ends the whole job with its message.
  return examples::run_main("gpt", [&] { gpt::run(opts, std::cout); });
}
