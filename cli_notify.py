"""`flask --app app worker` (the notification worker, a huey consumer) and `flask --app app
notify-once` (one scheduler tick and one delivery round, for cron or a look at what is due)."""
import json
import logging

import click


def register(app):
    @app.cli.command("worker")
    @click.option("--threads", default=1, show_default=True, type=click.IntRange(1, 16),
                  help="Worker threads (each runs the minute loop when its turn comes).")
    def worker_command(threads):
        """Run the notification worker: deadline alerts, reports, invitations; delivery of the outbox."""
        from notify import worker
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
        worker.APP = app
        click.echo(f"notification worker: e-mail {'to ' + app.config['MAIL_SERVER'] if app.config['MAIL_SERVER'] else 'off (MAIL_SERVER not set)'}; "
                   f"huey store {worker.huey.storage.__class__.__name__}")
        consumer = worker.huey.create_consumer(workers=threads, periodic=True, check_worker_health=True)
        worker.STOP = consumer.stop_flag  # the minute loop stops with the consumer
        consumer.run()

    @app.cli.command("notify-once")
    def notify_once():
        """Run one scheduler tick and deliver what is due, then print what happened."""
        from models.notifications import run_tick
        from notify.worker import deliver_pending
        ticked = run_tick()
        delivered = deliver_pending()
        click.echo(json.dumps({"tick": ticked, "delivered": dict(delivered)}, ensure_ascii=False))
