CREATE TRIGGER grade_rows BEFORE UPDATE ON grades FOR EACH ROW
BEGIN
  CASE NEW.score
    WHEN 100 THEN SET NEW.grade = 'A+';
    WHEN 0 THEN
      IF OLD.score > 0 THEN SET NEW.grade = 'F'; END IF;
    ELSE SET NEW.grade = CASE WHEN NEW.score >= 50 THEN 'pass' ELSE IF(NEW.score > 40, 'close', 'fail') END;
  END CASE;
  SET NEW.stars = REPEAT('*', NEW.score DIV 20);
END;
UPDATE grades SET score = score;
