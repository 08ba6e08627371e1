// The systems of the frame-loop benchmark: each frame, every entity thinks,
// is integrated, collides with the ground and is gathered into statistics.
#include "frame.hpp"

void Entity::think(const Vec3 &target) {
  Vec3 to = target - position();
  Vec3 desired = to.normalized() * 4.0f;
  Vec3 steer = (desired - velocity()).clamped(2.0f);
  body().apply_force(steer);
  transform().turn(steer.x * 0.01f);
  health().tick();
}

World::World(int entities) {
  entities_.reserve(entities);
  for (int i = 0; i < entities; ++i)
    entities_.emplace_back(uint32_t(i), Vec3(float(i % 37), float(i % 11) + 1.0f, float(i % 23)));
}

void World::integrate(Entity &e, float dt) {
  Body &b = e.body();
  b.apply_force(Vec3(0, -9.8f, 0) * (1.0f / b.inv_mass));
  b.velocity += b.acceleration() * dt;
  e.transform().translate(b.velocity * dt);
  b.clear_forces();
}

void World::collide_ground(Entity &e) {
  Transform &t = e.transform();
  if (t.position.y < 0) {
    t.position.y = -t.position.y;
    Body &b = e.body();
    b.velocity.y = -b.velocity.y * 0.5f;
    if (b.velocity.length_sq() > 400.0f) e.health().damage(1);
  }
}

void World::gather(Entity &e) {
  if (e.alive()) gathered_ += e.position().length() * 1e-6;
}

void World::update(float dt) {
  ++frame_;
  target_ = Vec3(float(frame_ % 50), 2.0f, float(frame_ % 70) * 0.5f);
  for (Entity &e : entities_) {
    e.think(target_);
    integrate(e, dt);
    collide_ground(e);
    gather(e);
  }
}

double World::checksum() const {
  double s = gathered_;
  for (const Entity &e : entities_) s += e.position().x + e.health().hp;
  return s;
}
