#include "replace_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <system_error>

#include "../tensor/check.hpp"

namespace xg::detail {

namespace {

namespace fs = std::filesystem;

std::string cannot(const std::string& what, const std::string& path, int error) {
  return "save: cannot " + what + " " + path + ": " + std::strerror(error);
}

const char* file_kind(mode_t mode) {
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISSOCK(mode)) return "a socket";
  return "an unknown kind of file";
}

// Follows the symlinks starting at `path` to the file they end in, which may not exist yet (a
// dangling link names a file to create); `st` gets its status, st_mode 0 when it is absent.
std::string resolve_links(const std::string& path, struct stat& st) {
  constexpr int kMaxLinks = 40;  // Linux's MAXSYMLINKS
  std::string target = path;
  for (int links = 0;; ++links) {
    if (::lstat(target.c_str(), &st) != 0) {
      XG_CHECK_STATE(errno == ENOENT, cannot("write", target, errno));
      st.st_mode = 0;
      return target;
    }
    if (!S_ISLNK(st.st_mode)) return target;
    XG_CHECK_STATE(links != kMaxLinks, cannot("write", target, ELOOP));
    std::error_code ec;
    const fs::path link = fs::read_symlink(target, ec);
    XG_CHECK_STATE(!ec, cannot("write", target, ec.value()));
    target = link.is_absolute() ? link.string() : (fs::path(target).parent_path() / link).string();
  }
}

// Creates a new file with a short random name in `dir`, so that a target name of NAME_MAX
// characters still works; returns its descriptor, or -1 with errno set.
int create_temporary(const fs::path& dir, mode_t mode, std::string& name) {
  std::random_device entropy;
  for (int attempt = 0; attempt < 100; ++attempt) {
    char random[20];
    std::snprintf(random, sizeof random, "%08x%08x", entropy(), entropy());
    name = (dir / (std::string(".xgrad-") + random + ".tmp")).string();
    const int fd = ::open(name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd >= 0 || errno != EEXIST) return fd;
  }
  return -1;
}

}  // namespace

FileReplacement::FileReplacement(const std::string& path) {
  struct stat st {};
  target_ = resolve_links(path, st);
  XG_CHECK_STATE(st.st_mode == 0 || S_ISREG(st.st_mode), "save: ", target_, " is ",
                 file_kind(st.st_mode), ", not a regular file");
  target_exists_ = st.st_mode != 0;
  permissions_ = st.st_mode & 0777;
  // An existing file's copy stays private until it has the file's permission bits.
  fd_ = create_temporary(fs::path(target_).parent_path(), target_exists_ ? 0600 : 0666, temporary_);
  if (fd_ < 0) {
    temporary_.clear();
    detail::fail<std::runtime_error>(cannot("create a temporary file next to", target_, errno));
  }
}

FileReplacement::~FileReplacement() {
  if (fd_ >= 0) ::close(fd_);
  if (!temporary_.empty()) ::unlink(temporary_.c_str());
}

void FileReplacement::fail(int error) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  ::unlink(temporary_.c_str());
  temporary_.clear();
  detail::fail<std::runtime_error>(cannot("write", target_, error));
}

void FileReplacement::write(const void* data, std::size_t size) {
  const char* p = static_cast<const char*>(data);
  while (size > 0) {
    const ssize_t n = ::write(fd_, p, std::min<std::size_t>(size, std::size_t{1} << 30));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail(n < 0 ? errno : EIO);
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}

void FileReplacement::commit() {
  if (target_exists_ && ::fchmod(fd_, permissions_) != 0) fail(errno);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail(errno);
  if (::rename(temporary_.c_str(), target_.c_str()) != 0) fail(errno);
  temporary_.clear();
}

}  // namespace xg::detail
