// What http_handler.hpp declares beside the handler types: OpenFile and the default handler.

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/status.hpp>

#include "websocket/http_handler.hpp"

namespace tickwire::net::websocket_detail {

std::shared_ptr<OpenFile> OpenFile::open(const std::string& path) {
  // Not through a symbolic link: a link planted in a served folder must not serve what it names.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return nullptr;
  struct stat info {};
  if (::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode)) {
    ::close(fd);
    return nullptr;
  }
  return std::shared_ptr<OpenFile>(new OpenFile(fd, static_cast<std::uint64_t>(info.st_size)));
}

OpenFile::~OpenFile() {
  ::close(fd_);
}

HttpResponse answer_not_found(const HttpRequest& request, const std::string& /*client_address*/) {
  HttpResponse response{boost::beast::http::status::not_found, request.version()};
  response.set(boost::beast::http::field::content_type, "text/plain");
  response.body() = "Not found.\n";
  return response;
}

}  // namespace tickwire::net::websocket_detail
