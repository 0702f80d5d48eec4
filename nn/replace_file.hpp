// Internal: writing a file whole or not at all, as save does: a temporary file renamed over it.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>

namespace xg::detail {

// Writes the file at `path` through a temporary file in the same directory, renamed over it by
// commit(); until then, and if anything fails, the file at `path` stays as it was and the
// temporary is removed. A symlink at `path` is followed to the file it names (and stays a
// link); a target that exists and is not a regular file (a directory, a FIFO, a device) is
// refused before anything is written. A new file gets the usual mode (0666 less the umask), an
// existing one keeps its permission bits. Failures throw std::runtime_error with messages that
// start "save:".
class FileReplacement {
 public:
  explicit FileReplacement(const std::string& path);
  ~FileReplacement();
  FileReplacement(const FileReplacement&) = delete;
  FileReplacement& operator=(const FileReplacement&) = delete;

  void write(const void* data, std::size_t size);
  void commit();

 private:
  [[noreturn]] void fail(int error);

  std::string target_;     // the file replaced: `path`, or where its symlinks lead
  std::string temporary_;  // "" once renamed or removed
  int fd_ = -1;
  bool target_exists_ = false;
  mode_t permissions_ = 0;
};

}  // namespace xg::detail
