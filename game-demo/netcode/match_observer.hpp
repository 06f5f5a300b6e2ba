#pragma once
// What ArenaServer tells whoever watches its matches (the replay recorder): every change to a
// match's World, in the order the server makes it, on the server's thread. Enough to rebuild the
// World tick by tick from the rules (arena_replay.hpp).

#include <cstdint>
#include <map>

#include "arena_rules.hpp"

namespace arena {

class MatchObserver {
 public:
  virtual ~MatchObserver() = default;
  // A match's World was made with these rules (its first player has arrived).
  virtual void match_began(std::uint64_t match_id, const Config& rules) = 0;
  // World::add_player / remove_player, between ticks.
  virtual void player_joined(std::uint64_t match_id, PlayerId player) = 0;
  virtual void player_left(std::uint64_t match_id, PlayerId player) = 0;
  // World::step ran with `inputs`; `world` is the state after it.
  virtual void ticked(std::uint64_t match_id, const std::map<PlayerId, PlayerInput>& inputs,
                      const World& world) = 0;
  // The match is gone from the server (finished and emptied, abandoned, or the server stops).
  virtual void match_closed(std::uint64_t match_id) = 0;
};

}  // namespace arena
