// The gpt example's model, data and training loop, apart from its command line: nanoGPT's
// model.py and train.py (karpathy/nanoGPT) with its shakespeare_char recipe for a CPU as the
// defaults.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>
#include <xgrad/xgrad.hpp>

namespace gpt {

// The architecture, as nanoGPT's GPTConfig.
struct Config {
  std::int64_t block_size = 64;
  std::int64_t vocab_size = 65;
  std::int64_t n_layer = 4;
  std::int64_t n_head = 4;
  std::int64_t n_embd = 128;
  double dropout = 0.0;
  bool bias = false;  // biases in the Linear and LayerNorm layers
};

// Everything the command line sets; the defaults are nanoGPT's CPU recipe ("I only have a
// macbook" in its README, with config/train_shakespeare_char.py).
struct Options {
  // The training texts, FILE or FILE:EPOCHS each (a data mixture when there are several; see
  // run()). Empty: the committed Tiny Shakespeare copy.
  std::vector<std::string> data;
  Config model;
  std::uint64_t seed = 1337;
  std::int64_t batch_size = 12;
  // Batches each process draws, backpropagates and sums per iteration before the optimizer
  // steps (nanoGPT's gradient_accumulation_steps, counted per process): an iteration trains on
  // ranks x this x batch_size windows.
  std::int64_t gradient_accumulation_steps = 1;
  double bucket_cap_mb = 25.0;  // DistributedDataParallel's bucket size under mpirun
  std::int64_t max_iters = 2000;
  double learning_rate = 1e-3;
  double min_lr = 1e-4;
  std::int64_t warmup_iters = 100;
  std::int64_t lr_decay_iters = 2000;
  bool decay_lr = true;
  double weight_decay = 0.1;
  double beta1 = 0.9;
  double beta2 = 0.99;
  double grad_clip = 1.0;  // 0: no clipping
  std::int64_t eval_interval = 250;
  std::int64_t eval_iters = 20;
  std::int64_t log_interval = 0;    // 0: no per-iteration lines
  bool full_eval = true;            // score the final model on the whole validation split
  std::string save;                 // checkpoint written at every evaluation and at the end
  std::string resume;               // checkpoint to continue from
  std::string init_from;            // checkpoint whose model weights start a new run (fine-tuning)
  std::vector<std::string> freeze;  // globs of parameter names kept fixed ("transformer.h.0.*")
  std::string export_check;         // a fixed batch, its logits and loss, for check_pytorch.py
  // Sampling after training (or instead of it with sample_only).
  std::int64_t sample = 0;  // characters to generate
  std::string prompt = "\n";
  double temperature = 0.8;
  std::int64_t top_k = 200;  // 0: no top-k filtering
  bool sample_only = false;
};

// The characters of a text as nanoGPT's prepare.py numbers them: the sorted set.
class Vocabulary {
 public:
  // The reserved id's character, ASCII's SUB ("substitute", for a character that cannot be
  // represented): a vocabulary that holds it maps every character outside it there.
  static constexpr char kSubstitute = '\x1a';

  explicit Vocabulary(const std::string& chars);       // ids in the order given, repeats dropped
  static Vocabulary of_text(const std::string& text);  // the sorted set of its characters
  const std::string& chars() const { return chars_; }
  std::int64_t size() const { return static_cast<std::int64_t>(chars_.size()); }
  bool has_substitute() const { return ids_[static_cast<unsigned char>(kSubstitute)] >= 0; }
  // This vocabulary with kSubstitute appended as the last id (itself if it has it).
  Vocabulary with_substitute() const;
  bool contains(char c) const { return ids_[static_cast<unsigned char>(c)] >= 0; }
  // A character outside the vocabulary maps to kSubstitute's id if it has one, and is counted in
  // *substituted; else it throws std::invalid_argument naming the character and its position.
  xg::Tensor encode(const std::string& text, const std::string& what,
                    std::int64_t* substituted = nullptr) const;
  std::string decode(const xg::Tensor& ids) const;

 private:
  std::string chars_;
  std::int64_t ids_[256];
};

class CausalSelfAttention : public xg::nn::Module {
 public:
  CausalSelfAttention(const Config& config, std::optional<xg::Generator> dropout_generator);
  xg::Tensor forward(const xg::Tensor& x) override;

  std::shared_ptr<xg::nn::Linear> c_attn, c_proj;
  std::shared_ptr<xg::nn::Dropout> resid_dropout;

 private:
  std::int64_t n_head_, n_embd_;
  double dropout_;
  std::optional<xg::Generator> generator_;
};

class MLP : public xg::nn::Module {
 public:
  MLP(const Config& config, std::optional<xg::Generator> dropout_generator);
  xg::Tensor forward(const xg::Tensor& x) override;

  std::shared_ptr<xg::nn::Linear> c_fc, c_proj;
  std::shared_ptr<xg::nn::Dropout> dropout;

 private:
  double dropout_p_;
};

class Block : public xg::nn::Module {
 public:
  Block(const Config& config, std::optional<xg::Generator> dropout_generator);
  xg::Tensor forward(const xg::Tensor& x) override;

  std::shared_ptr<xg::nn::LayerNorm> ln_1, ln_2;
  std::shared_ptr<CausalSelfAttention> attn;
  std::shared_ptr<MLP> mlp;
};

// nanoGPT's `transformer` ModuleDict, as a module of its own so its members keep their types.
class Transformer : public xg::nn::Module {
 public:
  Transformer(const Config& config, std::optional<xg::Generator> dropout_generator);

  std::shared_ptr<xg::nn::Embedding> wte, wpe;
  std::shared_ptr<xg::nn::Dropout> drop;
  std::shared_ptr<xg::nn::ModuleList> h;
  std::shared_ptr<xg::nn::LayerNorm> ln_f;
};

// The model: parameter names are nanoGPT's (transformer.wte.weight, transformer.h.0.attn.c_attn
// .weight, lm_head.weight, ...), and lm_head's weight is the token embedding's.
class GPT : public xg::nn::Module {
 public:
  // Initialises as nanoGPT does, from the default generator: every Linear and Embedding weight
  // N(0, 0.02), biases zero, the residual projections (c_proj) N(0, 0.02 / sqrt(2 n_layer)).
  // Dropout masks come from `dropout_generator` (the default generator without it).
  explicit GPT(const Config& config, std::optional<xg::Generator> dropout_generator = {});
  // idx: Int64 [B, t] with t <= block_size -> logits [B, t, vocab_size].
  xg::Tensor forward(const xg::Tensor& idx) override;
  // Parameters counted once (the tied weight once), with and without the position embedding
  // (nanoGPT reports the count without it).
  std::int64_t num_parameters(bool include_position_embedding = true) const;

  const Config& config() const { return config_; }
  std::shared_ptr<Transformer> transformer;
  std::shared_ptr<xg::nn::Linear> lm_head;

 private:
  Config config_;
};

// The mean cross-entropy of the next token over logits [B, T, V] and targets [B, T].
xg::Tensor lm_loss(const xg::Tensor& logits, const xg::Tensor& targets);

// The mean cross-entropy over every position of the non-overlapping windows of block_size tokens
// starting at 0, T, 2T, ... (the last partial window dropped; targets are the next tokens),
// under no-grad and eval().
double full_split_loss(GPT& model, const xg::Tensor& tokens);

// `count` characters generated after `prompt` (nanoGPT's generate): the last block_size tokens
// in, the last position's logits divided by temperature, all but the top_k largest set to -inf,
// softmax, one draw with multinomial from `generator`.
std::string generate(GPT& model, const Vocabulary& vocab, const std::string& prompt,
                     std::int64_t count, double temperature, std::int64_t top_k,
                     xg::Generator generator);

// The whole program: reads the data, trains (or resumes, or starts from another run's weights)
// as opts says, printing `step N: train X, val Y` at each evaluation, the time per iteration,
// and `final val (full split): X`; then samples if asked. With several --data sources, the
// training windows come from an xg::nn::WindowMixture whose weights are the sources' epoch
// budgets over the run's tokens, and the losses are reported per source and weighted.
//
// Started by mpirun (examples/common/data_parallel.hpp), every rank trains the same model on
// its own batches, averaging the gradients (DistributedDataParallel); rank 0 alone evaluates,
// prints and saves. The batches come from ranks x gradient_accumulation_steps streams, each
// with its own generators (training windows and dropout) seeded from the seed and the stream's
// number, so a run's trajectory depends on the number of streams, not on how the processes
// share them: 2 ranks with one batch each train as 1 process accumulating 2 batches, and a
// checkpoint (holding every stream's state) resumes with any such split.
void run(const Options& opts, std::ostream& out);

}  // namespace gpt
