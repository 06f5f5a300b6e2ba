#pragma once
// The lobby's chat as both screens show it: the newest lines that fit in a box, wrapped.

#include <deque>

#include <tickwire/net/lobby_client.hpp>

#include "ui.hpp"

namespace arena::client {

void draw_chat_log(Ui& ui, const std::deque<tickwire::net::LobbyChatLine>& log, const Box& box);

}  // namespace arena::client
