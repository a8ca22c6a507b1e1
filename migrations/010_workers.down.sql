DROP TABLE /*schema*/sparrow_worker;
