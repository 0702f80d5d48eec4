// The char_lm example's data preparation, model and training loop, apart from its command line.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>
#include <xgrad/xgrad.hpp>

namespace char_lm {

inline constexpr std::int64_t kContext = 3;  // characters the model sees before the next one
inline constexpr std::int64_t kVocab = 27;   // '.' (id 0, the start and end of a word) and a-z
inline constexpr char kBoundary = '.';

struct Options {
  std::string data = "/usr/share/dict/words";
  std::uint64_t seed = 42;
  std::int64_t steps = 30000;  // the total: a resumed run continues up to it
  std::int64_t batch_size = 256;
  double lr = 3e-3;  // the peak; it decays along a cosine to lr / 20 at the last step
  std::int64_t emb = 16;
  std::int64_t hidden = 300;
  std::int64_t eval_every = 2000;
  std::string save;    // checkpoint path, written at every evaluation
  std::string resume;  // checkpoint to continue from
  int samples = 20;
};

// One word per line, lowercased (ASCII), kept only when made of a-z alone, each kept once in the
// order of its first appearance.
std::vector<std::string> clean_words(std::istream& in);
// clean_words of the file; throws std::runtime_error when it cannot be read or keeps no word.
std::vector<std::string> read_words(const std::string& path);

struct Split {
  std::vector<std::string> train, validation;
};
// Shuffles with its own seeded generator (the same split with any standard library) and holds
// out the last tenth, at least one word, for validation. Needs at least two words.
Split split_words(std::vector<std::string> words, std::uint64_t seed);

// Every (previous kContext characters, next character) pair of the words, each word padded with
// '.' at its start and ended by '.': "ab" gives ... -> a, ..a -> b, .ab -> '.'.
struct Examples {
  xg::Tensor contexts;  // [N, kContext] Int64 character ids
  xg::Tensor targets;   // [N] Int64
};
Examples make_examples(const std::vector<std::string>& words);

// Bengio et al. 2003: embed each context character, concatenate, one tanh layer, logits.
class CharMLP : public xg::nn::Module {
 public:
  CharMLP(std::int64_t emb_dim, std::int64_t hidden_size);
  // contexts [B, kContext] Int64 -> logits [B, kVocab].
  xg::Tensor forward(const xg::Tensor& contexts) override;

  std::shared_ptr<xg::nn::Embedding> embedding;
  std::shared_ptr<xg::nn::Linear> hidden, output;
  // The optimizer steps these weights have had: an Int64 buffer, so that checkpoints carry it
  // (as BatchNorm's num_batches_tracked in PyTorch).
  xg::Tensor steps_trained;
};

// Words drawn one character at a time from the model's softmax, with a generator of their own.
std::vector<std::string> sample_words(CharMLP& model, int count, std::uint64_t seed);

struct Result {
  std::int64_t steps = 0;                      // the step the model ended at
  double train_loss = 0, validation_loss = 0;  // mean nats per character over each set
  double seconds = 0;                          // time spent in the training loop
  std::vector<std::string> samples;
};

// Reads and splits the words, trains (or resumes) as opts says, printing the train and
// validation loss every eval_every steps, then the final losses, the training time and the
// sampled words.
Result run(const Options& opts, std::ostream& out);

}  // namespace char_lm
