DROP INDEX /*schema*/sparrow_delivery_finished_badly_idx;
