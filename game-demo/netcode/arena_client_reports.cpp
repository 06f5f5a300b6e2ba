// ArenaClient's bug reports: a PNG sent to the server over the game connection (FileTransfer on
// kReportChannel), with its progress for the screen.

#include "arena_client.hpp"
#include "arena_server.hpp"

namespace arena {

namespace net = tickwire::net;

net::Status ArenaClient::send_report(const std::filesystem::path& png) {
  if (phase_ != ClientPhase::playing && phase_ != ClientPhase::over)
    return net::Status::error("a bug report goes to the server during a match");
  if (report_.state == ReportProgress::State::sending)
    return net::Status::error("the last bug report is still on its way");
  auto sent = reports_->send_file(net_->server(), png, kBugReportKind);
  if (!sent) return net::Status::error(sent.error());
  report_ = {.state = ReportProgress::State::sending};  // its size comes with the transfer's events
  return {};
}

void ArenaClient::take_report_events() {
  net::TransferEvent event;
  while (reports_->poll(event)) {
    if (event.direction != net::TransferDirection::sending) continue;
    switch (event.type) {
      case net::TransferEventType::started:
      case net::TransferEventType::progress:
        report_.bytes_done = event.bytes_done;
        report_.total = event.total;
        break;
      case net::TransferEventType::completed:
        report_.state = ReportProgress::State::sent;
        report_.bytes_done = report_.total = event.total;
        break;
      case net::TransferEventType::failed:
        report_.state = ReportProgress::State::failed;
        report_.error = std::string(net::describe(event.error));
        break;
      case net::TransferEventType::interrupted:
        break;  // failed follows: reports are not resumed
    }
  }
}

}  // namespace arena
