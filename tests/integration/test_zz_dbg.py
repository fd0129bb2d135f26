from tests.flows.test_stop_sentinel_flow import *
def test_dbg(ledger_url, sessions):
    from tradebot.config import load_settings
    with FakeAlpacaTradingServer(KEY, SECRET, max_lifetime=60) as fake:
        fake.set_price(SYM, "3000")
        broker = AlpacaBroker(KEY, SECRET, fake.base_url, timeout=1.0, sleep=lambda s: None)
        lv = levels(SYM, "3000", 20.0, tp=None)
        open_position(sessions, broker, SYM, "2", lv)
        st = load_settings(**{"database_url": ledger_url, "paper": {"account": ACCOUNT}})
        print("URL", st.ledger_url == ledger_url, st.paper.account)
        from tradebot.sentinel.positions import load_watched
        with sessions() as s:
            print("W", load_watched(s, ACCOUNT))
            from tradebot.store.trading import PositionRow
            print([ (r.symbol, r.qty) for r in s.scalars(select(PositionRow))])
