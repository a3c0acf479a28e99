from sqlalchemy import func, select

from payments_core.db.models import Currency, User
from payments_core.db.seed import USER_COUNT, seed, seed_users


def test_seed_users_are_the_same_every_time_and_unique():
    first, second = seed_users(), seed_users()

    assert first == second
    assert len(first) == USER_COUNT
    assert len({u.username for u in first}) == USER_COUNT
    assert len({u.user_id for u in first}) == USER_COUNT


def test_the_seeded_database_has_every_currency_and_every_user(engine):
    with engine.connect() as conn:
        usd = conn.execute(select(Currency).where(Currency.alpha_code == "USD")).one()
        jpy = conn.execute(select(Currency).where(Currency.alpha_code == "JPY")).one()
        gold = conn.execute(select(Currency).where(Currency.alpha_code == "XAU")).one()
        currencies = conn.scalar(select(func.count()).select_from(Currency))
        usernames = set(conn.scalars(select(User.username)))

    assert (usd.numeric_code, usd.name, usd.minor_units) == (840, "US Dollar", 2)
    assert (jpy.numeric_code, jpy.minor_units) == (392, 0)
    assert gold.minor_units is None
    assert currencies > 150
    assert usernames == {u.username for u in seed_users()}


def test_seeding_again_changes_nothing_and_keeps_a_deactivated_user(engine):
    user = seed_users()[0]
    with engine.begin() as conn:
        conn.execute(User.__table__.update().where(User.user_id == user.user_id).values(is_active=False))

    counts = seed(engine)

    with engine.connect() as conn:
        active = conn.scalar(select(User.is_active).where(User.user_id == user.user_id))
    assert counts == {"currencies": 0, "users": 0}
    assert active is False
