CREATE TRIGGER orders_guard BEFORE INSERT ON orders
FOR EACH ROW
BEGIN
  IF NEW.total < 0 THEN
    SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'negative total; refused';
  ELSEIF NEW.total = 0 THEN
    SET NEW.note = IF(NEW.note IS NULL, 'free', NEW.note);
  ELSE
    BEGIN
      DECLARE n INT DEFAULT 0;
      SET n = n + 1;
    END;
  END IF;
END;
INSERT INTO orders (total) VALUES (1);
